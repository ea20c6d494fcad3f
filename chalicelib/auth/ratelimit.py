"""Rate limits: counters in Redis, an in-process fallback when Redis is unreachable.

Algorithm: a sliding-window counter — two fixed windows, the previous one weighted by
the share of it the sliding window still covers. A plain fixed window lets twice the
limit through around a boundary (5 failed logins at 0:59 and 5 more at 1:00), which for
a login limit doubles an attacker's guesses; a sliding log (a sorted set of timestamps)
is exact but stores every event (600 per user per minute for the API limit). The
counter costs one INCR round trip and two small keys per subject, and stays within the
limit at the boundary; its only error is assuming the previous window's events were
spread evenly.

Refused requests count too: a client that ignores Retry-After stays refused.

Redis down: the same limits are enforced by an in-process store (each process then
counts only what it sees — never "no limit"), and a warning is logged."""

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import redis

from chalicelib.errors import RateLimited
from chalicelib.infra import cache
from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings

T = TypeVar("T")

# Time source of windows and lockouts (tests move it instead of sleeping).
clock: Callable[[], float] = time.time

_TRIPS_MEMORY_SECONDS = 24 * 3600
_WARN_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window_seconds: int


def login_account_limit() -> Limit:
    return Limit("login_account", get_settings().login_failures_per_account_per_minute, 60)


def login_ip_limit() -> Limit:
    return Limit("login_ip", get_settings().login_failures_per_ip_per_minute, 60)


def registration_limit() -> Limit:
    return Limit("register_ip", get_settings().registrations_per_ip_per_minute, 60)


def password_reset_limit() -> Limit:
    return Limit("reset_account", get_settings().password_reset_requests_per_account_per_hour, 3600)


def api_user_limit() -> Limit:
    return Limit("api_user", get_settings().api_requests_per_user_per_minute, 60)


class _Store(Protocol):
    def incr(self, key: str, ttl: int) -> int: ...
    def get_many(self, keys: list[str]) -> list[str | None]: ...
    def set(self, key: str, value: str, ttl: int) -> None: ...
    def delete(self, keys: list[str]) -> None: ...


class _RedisStore:
    def __init__(self, client: redis.Redis):
        self.client = client

    def incr(self, key: str, ttl: int) -> int:
        pipe = self.client.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, ttl)
        return int(pipe.execute()[0])

    def get_many(self, keys: list[str]) -> list[str | None]:
        return self.client.mget(keys)

    def set(self, key: str, value: str, ttl: int) -> None:
        self.client.set(key, value, ex=max(1, ttl))

    def delete(self, keys: list[str]) -> None:
        self.client.delete(*keys)


class _MemoryStore:
    """Expiring counters in this process, on the same clock as the windows."""

    MAX_ENTRIES = 100_000

    def __init__(self):
        self._data: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> str | None:
        entry = self._data.get(key)
        if entry is None or entry[1] <= now:
            self._data.pop(key, None)
            return None
        return entry[0]

    def incr(self, key: str, ttl: int) -> int:
        now = clock()
        with self._lock:
            value = int(self._live(key, now) or 0) + 1
            self._data[key] = (str(value), now + ttl)
            self._prune(now)
            return value

    def get_many(self, keys: list[str]) -> list[str | None]:
        now = clock()
        with self._lock:
            return [self._live(k, now) for k in keys]

    def set(self, key: str, value: str, ttl: int) -> None:
        now = clock()
        with self._lock:
            self._data[key] = (value, now + ttl)
            self._prune(now)

    def delete(self, keys: list[str]) -> None:
        with self._lock:
            for k in keys:
                self._data.pop(k, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def _prune(self, now: float) -> None:
        if len(self._data) <= self.MAX_ENTRIES:
            return
        self._data = {k: v for k, v in self._data.items() if v[1] > now}
        if len(self._data) > self.MAX_ENTRIES:
            # Still full of live entries: keep the longest-lived half (lockouts outlive counters).
            keep = sorted(self._data.items(), key=lambda kv: kv[1][1])[len(self._data) // 2 :]
            self._data = dict(keep)


memory_store = _MemoryStore()
_last_warning = 0.0


def _run(op: Callable[[_Store], T]) -> T:
    client = cache.client()
    if client is not None:
        try:
            return op(_RedisStore(client))
        except redis.RedisError as exc:
            cache.mark_down(exc)
    _warn_fallback()
    return op(memory_store)


def _warn_fallback() -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= _WARN_EVERY_SECONDS or _last_warning == 0.0:
        _last_warning = now
        logger.warning("rate limits enforced in-process: Redis is unavailable")


def _keys(limit: Limit, subject: str, now: float) -> tuple[str, str, float]:
    window = int(now // limit.window_seconds)
    base = f"rate_limit:{limit.name}:{subject}"
    elapsed = now - window * limit.window_seconds
    return cache.key(f"{base}:{window}"), cache.key(f"{base}:{window - 1}"), elapsed


def _lock_key(limit: Limit, subject: str) -> str:
    return cache.key(f"rate_limit:{limit.name}:{subject}:lock")


def _trips_key(limit: Limit, subject: str) -> str:
    return cache.key(f"rate_limit:{limit.name}:{subject}:trips")


def _estimate(limit: Limit, current: int, previous: int, elapsed: float) -> float:
    return current + previous * (1 - elapsed / limit.window_seconds)


def _retry_after(limit: Limit, current: int, previous: int, elapsed: float) -> int:
    """Seconds until the estimate drops below the limit, if nothing more arrives."""
    w = limit.window_seconds
    if current < limit.limit and previous > 0:
        wait = w * (1 - (limit.limit - current) / previous) - elapsed
    else:
        wait = (w - elapsed) + w * max(0.0, 1 - limit.limit / max(current, 1))
    return max(1, math.ceil(wait))


def hit(limit: Limit, subject: str) -> None:
    """Count one request; RateLimited when the sliding window now holds more than the limit."""
    now = clock()
    current_key, previous_key, elapsed = _keys(limit, subject, now)

    def op(store: _Store) -> tuple[int, int]:
        current = store.incr(current_key, 2 * limit.window_seconds)
        return current, int(store.get_many([previous_key])[0] or 0)

    current, previous = _run(op)
    if _estimate(limit, current, previous, elapsed) > limit.limit:
        raise RateLimited(retry_after=_retry_after(limit, current, previous, elapsed))


def check(limit: Limit, subject: str) -> None:
    """Refuse (without counting) while the subject is locked out or at its limit."""
    now = clock()
    current_key, previous_key, elapsed = _keys(limit, subject, now)
    raw_current, raw_previous, raw_lock = _run(
        lambda store: store.get_many([current_key, previous_key, _lock_key(limit, subject)])
    )
    if raw_lock is not None and float(raw_lock) > now:
        raise RateLimited("Too many failed attempts; try again later", retry_after=math.ceil(float(raw_lock) - now))
    current, previous = int(raw_current or 0), int(raw_previous or 0)
    if _estimate(limit, current, previous, elapsed) >= limit.limit:
        raise RateLimited(
            "Too many failed attempts; try again later", retry_after=_retry_after(limit, current, previous, elapsed)
        )


def record_failure(limit: Limit, subject: str, *, lockout_base: int, lockout_max: int) -> None:
    """Count one failure; reaching the limit locks the subject out for a time that doubles
    with each trip within a day (base, 2x base, 4x base, ... up to the cap)."""
    now = clock()
    current_key, previous_key, elapsed = _keys(limit, subject, now)

    def op(store: _Store) -> None:
        current = store.incr(current_key, 2 * limit.window_seconds)
        previous = int(store.get_many([previous_key])[0] or 0)
        if _estimate(limit, current, previous, elapsed) < limit.limit:
            return
        trips = store.incr(_trips_key(limit, subject), _TRIPS_MEMORY_SECONDS)
        duration = min(lockout_max, lockout_base * 2 ** min(trips - 1, 30))
        store.set(_lock_key(limit, subject), repr(now + duration), duration + 1)

    _run(op)


def clear(limit: Limit, subject: str) -> None:
    """Forget a subject's counted failures (a successful login); its trip history stays."""
    now = clock()
    current_key, previous_key, _ = _keys(limit, subject, now)
    _run(lambda store: store.delete([current_key, previous_key]))
