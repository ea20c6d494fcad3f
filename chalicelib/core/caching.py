"""The API response cache: one read-through, one key scheme, one invalidation rule.

Every cached answer derived from a user's data (ledger lists and details, analytics, the
dashboard) lives under `cache:api:{area}:{user_id}:{generation}:{params_hash}` for the
seed's 300 s. The invalidation rule: a write bumps the generation of every user who can
see the changed data (for family data: every member), after the write commits, so the
very next read misses and recomputes (Redis has no wildcard DEL).

The caller's generation is read BEFORE the answer is computed: an answer computed from
the old data can only ever be stored under the old generation, which nobody reads again.
With Redis down the generation is unknown and the answer comes straight from PostgreSQL.

Failure mode, by design: a write made while Redis is unreachable cannot bump; the bump is
retried once Redis answers again in this process, and entries keep their TTL as the
outer bound."""

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

if TYPE_CHECKING:
    import psycopg

# Redis and PostgreSQL are imported where used: app.py registers the live listener at
# import time (live/binding.py), which must not load them into every function's cold start.

T = TypeVar("T")

DEFAULT_TTL_SECONDS = 300

_pending: set[str] = set()
# Called with the users of every invalidation, inside the write's transaction (the live
# dashboard push registers here, so core imports no domain).
_listeners: list[Callable[[set[UUID]], None]] = []


def cache_key(area: str, user_id: UUID, generation: int, params: Any) -> str:
    canonical = json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))
    return f"cache:api:{area}:{user_id}:{generation}:{hashlib.sha256(canonical.encode()).hexdigest()}"


def read_through(
    area: str,
    *,
    user_id: UUID,
    params: Any,
    compute: Callable[[], T],
    ttl_seconds: int | Callable[[], int] = DEFAULT_TTL_SECONDS,
) -> T:
    """The JSON answer for (area, user, params): from Redis when fresh, else computed and
    kept. `ttl_seconds` may be a function, asked after `compute` ran (an answer may know
    how long it stays true)."""
    from chalicelib.infra import cache

    generation = user_generation(user_id)
    if generation is None:
        return compute()
    name = cache_key(area, user_id, generation, params)
    hit = cache.get_json(name)
    if hit is not None:
        return hit
    value = compute()
    cache.set_json(name, value, ttl_seconds() if callable(ttl_seconds) else ttl_seconds)
    return value


def on_invalidate(listener: Callable[[set[UUID]], None]) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def generation_name(user_id: UUID) -> str:
    return f"gen:user:{user_id}"


def user_generation(user_id: UUID) -> int | None:
    """The user's cache generation, or None when Redis is unavailable (do not cache)."""
    from chalicelib.infra import cache

    _flush_pending()
    return cache.generation(generation_name(user_id))


def _bump(names: list[str]) -> None:
    from chalicelib.infra import cache

    if cache.client() is None:
        _pending.update(names)
        return
    cache.bump_generation(*names)
    if cache.client() is None:  # the bump itself failed and marked Redis down
        _pending.update(names)


def _flush_pending() -> None:
    from chalicelib.infra import cache

    if _pending and cache.client() is not None:
        names = list(_pending)
        _pending.clear()
        _bump(names)


def invalidate_users(user_ids: Iterable[UUID]) -> None:
    """Bump these users' generations once the current unit of work commits."""
    from chalicelib.infra import db

    users = set(user_ids)
    names = sorted({generation_name(u) for u in users})
    if names:
        db.after_commit(lambda: _bump(names))
        for listener in _listeners:
            listener(users)


def invalidate_visible_to(conn: "psycopg.Connection", *, owner_id: UUID, family_id: UUID | None) -> None:
    """Invalidate for everyone who can see a resource: its owner, and its family's members."""
    users = {owner_id}
    if family_id is not None:
        users.update(
            r["user_id"] for r in conn.execute("SELECT user_id FROM family_members WHERE family_id = %s", (family_id,))
        )
    invalidate_users(users)
