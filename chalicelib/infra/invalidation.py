"""Cache invalidation by generation counters (Redis has no wildcard DEL).

Every cached answer derived from a user's data (API list/detail caches, dashboard,
analytics) puts the user's current generation in its key; a write bumps the
generation of every user who can see the changed data (for family data: every
member), after the write commits, so the very next read misses and recomputes.

Failure mode, by design: a write made while Redis is unreachable cannot bump; the
bump is retried once Redis answers again in this process, and entries keep the
seed's 300 s TTL as the outer bound."""

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    import psycopg

# Redis and PostgreSQL are imported where used: app.py registers the live listener at
# import time (live/binding.py), which must not load them into every function's cold start.

_pending: set[str] = set()
# Called with the users of every invalidation, inside the write's transaction (the live
# dashboard push registers here, so infra imports no domain).
_listeners: list[Callable[[set[UUID]], None]] = []


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
