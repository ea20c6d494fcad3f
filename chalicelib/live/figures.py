"""The dashboard.updated frames of one write: every recipient's figures from the
dashboard's own statements (one transaction for all of them), kept under the seed's
dashboard:{user_id}:spending_today / …:budget_status keys so that a write which moves
none of a recipient's figures pushes them nothing. Two Redis round trips for any number
of recipients; each distinct payload is encoded once (a family's members who see the
same figures share one frame)."""

import json
from typing import Any
from uuid import UUID

import redis

from chalicelib.infra import cache
from chalicelib.live import binding
from chalicelib.live.topics import frame

DASHBOARD_UPDATED = "dashboard.updated"
# The live figures live beside the connections (ARCHITECTURE "Redis"), as long as the
# dashboard cache.
FIGURES_TTL_SECONDS = 300


def _keys(user_id: UUID) -> tuple[str, str]:
    return cache.key(f"dashboard:{user_id}:spending_today"), cache.key(f"dashboard:{user_id}:budget_status")


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _same(raw: str | None, value: Any) -> bool:
    return raw is not None and json.loads(raw) == value


def dashboard_frames(user_ids: list[UUID]) -> dict[UUID, str]:
    """The frame each of these users is to receive; users whose pushed figures did not move
    (a notification read, a renamed account) are left out."""
    provider = binding.figures()
    if provider is None:
        return {}
    figures = provider(user_ids=user_ids)
    # Grouped by value before anything is encoded: 50 members of one family are one payload.
    groups: dict[tuple, list[UUID]] = {}
    for user_id, f in figures.items():
        budgets = tuple((b.budget_id, b.name, b.state, b.percent_used) for b in f.budget_status)
        groups.setdefault((f.date, f.spending_today, budgets), []).append(user_id)
    encoded: dict[UUID, tuple[dict[str, Any], list[Any], str]] = {}
    for users in groups.values():
        data = figures[users[0]].model_dump(mode="json")
        spending = {"date": data["date"], "value": data["spending_today"]}
        message = frame(DASHBOARD_UPDATED, data)
        for user_id in users:
            encoded[user_id] = (spending, data["budget_status"], message)
    return _moved(encoded)


def _moved(encoded: dict[UUID, tuple[dict[str, Any], list[Any], str]]) -> dict[UUID, str]:
    c = cache.client()
    if c is None or not encoded:
        return {u: message for u, (_, _, message) in encoded.items()}
    users = sorted(encoded)
    try:
        last = c.mget([k for u in users for k in _keys(u)])
        moved = {}
        pipe = c.pipeline(transaction=False)
        for index, user_id in enumerate(users):
            spending, status, message = encoded[user_id]
            raw_spending, raw_status = last[2 * index], last[2 * index + 1]
            if _same(raw_spending, spending) and _same(raw_status, status):
                continue
            moved[user_id] = message
            spending_key, status_key = _keys(user_id)
            pipe.set(spending_key, _compact(spending), ex=FIGURES_TTL_SECONDS)
            pipe.set(status_key, _compact(status), ex=FIGURES_TTL_SECONDS)
        if moved:
            pipe.execute()
        return moved
    except redis.RedisError as exc:
        cache.mark_down(exc)
        return {u: message for u, (_, _, message) in encoded.items()}
