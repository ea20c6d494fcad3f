"""Who is connected: ws_connections:{user_id} (the seed's key) holds a user's connection
ids; ws_connection:{connection_id} holds its user and topics. Both expire unless a ping
refreshes them, so a connection API Gateway dropped without a $disconnect cannot linger.

Every call degrades like the cache: Redis unreachable means "nobody is connected"."""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

import redis

from chalicelib.infra import cache
from chalicelib.infra.settings import get_settings
from chalicelib.live.topics import TOPICS


@dataclass(frozen=True)
class Connection:
    connection_id: str
    user_id: UUID
    topics: frozenset[str]


def _user_key(user_id: UUID | str) -> str:
    return cache.key(f"ws_connections:{user_id}")


def _conn_key(connection_id: str) -> str:
    return cache.key(f"ws_connection:{connection_id}")


def _ttl() -> int:
    return get_settings().live_connection_ttl_seconds


def _record(user_id: UUID | str, topics: Iterable[str]) -> str:
    return json.dumps({"user_id": str(user_id), "topics": sorted(topics)})


def add(*, connection_id: str, user_id: UUID) -> bool:
    """Register a new connection, subscribed to every topic; False if Redis is down."""
    c = cache.client()
    if c is None:
        return False
    try:
        pipe = c.pipeline(transaction=False)
        pipe.set(_conn_key(connection_id), _record(user_id, TOPICS), ex=_ttl())
        pipe.sadd(_user_key(user_id), connection_id)
        pipe.expire(_user_key(user_id), _ttl())
        pipe.execute()
        return True
    except redis.RedisError as exc:
        cache.mark_down(exc)
        return False


def get(connection_id: str) -> Connection | None:
    c = cache.client()
    if c is None:
        return None
    try:
        raw = c.get(_conn_key(connection_id))
    except redis.RedisError as exc:
        cache.mark_down(exc)
        return None
    return _parse(connection_id, raw)


def _parse(connection_id: str, raw: str | None) -> Connection | None:
    if raw is None:
        return None
    record = json.loads(raw)
    return Connection(connection_id, UUID(record["user_id"]), frozenset(record["topics"]))


def refresh(conn: Connection) -> None:
    """A ping: both keys live another TTL."""
    _write(conn, conn.topics)


def set_topics(conn: Connection, topics: Iterable[str]) -> None:
    _write(conn, topics)


def _write(conn: Connection, topics: Iterable[str]) -> None:
    c = cache.client()
    if c is None:
        return
    try:
        pipe = c.pipeline(transaction=False)
        pipe.set(_conn_key(conn.connection_id), _record(conn.user_id, topics), ex=_ttl())
        pipe.sadd(_user_key(conn.user_id), conn.connection_id)
        pipe.expire(_user_key(conn.user_id), _ttl())
        pipe.execute()
    except redis.RedisError as exc:
        cache.mark_down(exc)


def remove(connection_id: str, user_id: UUID | None = None) -> None:
    """Forget a connection (closed, or gone when we pushed to it)."""
    c = cache.client()
    if c is None:
        return
    try:
        if user_id is None:
            known = _parse(connection_id, c.get(_conn_key(connection_id)))
            user_id = known.user_id if known else None
        pipe = c.pipeline(transaction=False)
        pipe.delete(_conn_key(connection_id))
        if user_id is not None:
            pipe.srem(_user_key(user_id), connection_id)
        pipe.execute()
    except redis.RedisError as exc:
        cache.mark_down(exc)


def anyone_connected(user_ids: Iterable[UUID]) -> bool:
    """Whether any of these users has a connection (one EXISTS); False if Redis is down."""
    keys = [_user_key(u) for u in {str(u) for u in user_ids}]
    c = cache.client()
    if c is None or not keys:
        return False
    try:
        return c.exists(*keys) > 0
    except redis.RedisError as exc:
        cache.mark_down(exc)
        return False


def connections_of(user_ids: Iterable[UUID]) -> list[Connection] | None:
    """Every live connection of these users (two round trips); None if Redis is down."""
    users = sorted({str(u) for u in user_ids})
    c = cache.client()
    if c is None:
        return None
    if not users:
        return []
    try:
        pipe = c.pipeline(transaction=False)
        for user in users:
            pipe.smembers(_user_key(user))
        members = [(user, cid) for user, ids in zip(users, pipe.execute(), strict=True) for cid in sorted(ids)]
        if not members:
            return []
        records = c.mget([_conn_key(cid) for _, cid in members])
        found, stale = [], []
        for (user, cid), raw in zip(members, records, strict=True):
            conn = _parse(cid, raw)
            if conn is None:
                stale.append((user, cid))  # its record expired: a connection nobody pinged
            else:
                found.append(conn)
        if stale:
            pipe = c.pipeline(transaction=False)
            for user, cid in stale:
                pipe.srem(_user_key(user), cid)
            pipe.execute()
        return found
    except redis.RedisError as exc:
        cache.mark_down(exc)
        return None
