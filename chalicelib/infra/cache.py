"""Redis adapter. Redis is an accelerator, never the only copy: every call here
degrades to "miss" / None when Redis is unreachable, and a short back-off keeps a
dead Redis from adding a connect timeout to every request."""

import json
import threading
import time
from typing import Any

import redis

from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings

_client: redis.Redis | None = None
_lock = threading.Lock()
_down_until = 0.0
_BACKOFF_SECONDS = 2.0


def key(name: str) -> str:
    return f"{get_settings().redis_key_prefix}{name}"


def client() -> redis.Redis | None:
    """The shared client, or None while Redis is known to be down."""
    global _client
    settings = get_settings()
    if not settings.redis_url or time.monotonic() < _down_until:
        return None
    if _client is None:
        with _lock:
            if _client is None:
                _client = redis.Redis.from_url(
                    settings.redis_url,
                    socket_timeout=settings.redis_timeout_seconds,
                    socket_connect_timeout=settings.redis_timeout_seconds,
                    decode_responses=True,
                    protocol=2,  # RESP2 keeps replies plain strings/lists across redis-py 7 and 8
                )
    return _client


def mark_down(exc: Exception) -> None:
    global _down_until
    _down_until = time.monotonic() + _BACKOFF_SECONDS
    logger.warning("redis unavailable, degrading", extra={"error": type(exc).__name__})


def reset() -> None:
    global _client, _down_until
    with _lock:
        if _client is not None:
            _client.close()
        _client = None
        _down_until = 0.0


def ping() -> bool:
    c = client()
    if c is None:
        return False
    try:
        return bool(c.ping())
    except redis.RedisError as exc:
        mark_down(exc)
        return False


def get_json(name: str) -> Any | None:
    c = client()
    if c is None:
        return None
    try:
        raw = c.get(key(name))
    except redis.RedisError as exc:
        mark_down(exc)
        return None
    return json.loads(raw) if raw is not None else None


def set_json(name: str, value: Any, ttl_seconds: int) -> None:
    c = client()
    if c is None:
        return
    try:
        c.set(key(name), json.dumps(value, separators=(",", ":"), default=str), ex=ttl_seconds)
    except redis.RedisError as exc:
        mark_down(exc)


def add_json(name: str, value: Any, ttl_seconds: int) -> bool:
    """Set only if absent (SET NX): False when the name was already there or Redis is down."""
    c = client()
    if c is None:
        return False
    try:
        return bool(c.set(key(name), json.dumps(value, separators=(",", ":"), default=str), ex=ttl_seconds, nx=True))
    except redis.RedisError as exc:
        mark_down(exc)
        return False


def delete(*names: str) -> None:
    c = client()
    if c is None or not names:
        return
    try:
        c.delete(*(key(n) for n in names))
    except redis.RedisError as exc:
        mark_down(exc)


def generation(name: str) -> int | None:
    """Current value of a generation counter (0 when never bumped); None if Redis is down."""
    c = client()
    if c is None:
        return None
    try:
        return int(c.get(key(name)) or 0)
    except redis.RedisError as exc:
        mark_down(exc)
        return None


def bump_generation(*names: str) -> None:
    """Invalidate every cached answer keyed under these generations (no wildcard DEL)."""
    c = client()
    if c is None or not names:
        return
    try:
        pipe = c.pipeline(transaction=False)
        for n in names:
            pipe.incr(key(n))
        pipe.execute()
    except redis.RedisError as exc:
        mark_down(exc)
