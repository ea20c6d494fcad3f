"""Where rate-limit counters live: Redis, or this process's memory when Redis is down.

Both stores answer the same operations, and each operation that decides something is
atomic in its store: a Lua script in Redis (one round trip, nothing runs between its
reads and its writes), the store's lock in memory. That is what makes "reserve an
attempt, then check the password" hold under concurrent requests: the read of the
counter and its increment can never be split by another request."""

import threading
from typing import Protocol

import redis

# Reserve one attempt: refused while the lock is in force or the sliding estimate is
# already at the limit (then nothing is counted), else counted. Replies
# {"locked", until} | {"full", current, previous} | {"ok", current, previous}.
_RESERVE_LUA = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local weight = tonumber(ARGV[3])
local lock = redis.call('GET', KEYS[3])
if lock and tonumber(lock) > now then
  return {'locked', lock}
end
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if current + previous * weight >= limit then
  return {'full', tostring(current), tostring(previous)}
end
current = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return {'ok', tostring(current), tostring(previous)}
"""

# Give back one reserved attempt, never below zero (the counter may have been cleared).
_RELEASE_LUA = """
local value = tonumber(redis.call('GET', KEYS[1]) or '0')
if value > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


class Store(Protocol):
    in_memory: bool

    def incr(self, key: str, ttl: int, now: float) -> int: ...
    def get_many(self, keys: list[str], now: float) -> list[str | None]: ...
    def set(self, key: str, value: str, ttl: int, now: float) -> None: ...
    def delete(self, keys: list[str]) -> None: ...
    def reserve(
        self, keys: tuple[str, str, str], *, now: float, limit: int, weight: float, ttl: int
    ) -> tuple[str, float, int, int]: ...
    def release(self, key: str, now: float) -> None: ...


def _decide(
    lock: str | None, current: int, previous: int, *, now: float, limit: int, weight: float
) -> tuple[str, float]:
    if lock is not None and float(lock) > now:
        return "locked", float(lock)
    if current + previous * weight >= limit:
        return "full", 0.0
    return "ok", 0.0


class RedisStore:
    in_memory = False

    def __init__(self, client: redis.Redis):
        self.client = client

    def incr(self, key: str, ttl: int, now: float) -> int:
        pipe = self.client.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, ttl)
        return int(pipe.execute()[0])

    def get_many(self, keys: list[str], now: float) -> list[str | None]:
        return self.client.mget(keys)

    def set(self, key: str, value: str, ttl: int, now: float) -> None:
        self.client.set(key, value, ex=max(1, ttl))

    def delete(self, keys: list[str]) -> None:
        self.client.delete(*keys)

    def reserve(
        self, keys: tuple[str, str, str], *, now: float, limit: int, weight: float, ttl: int
    ) -> tuple[str, float, int, int]:
        script = self.client.register_script(_RESERVE_LUA)  # EVALSHA, loading the script once
        reply = script(keys=list(keys), args=[repr(now), limit, repr(weight), ttl])
        if reply[0] == "locked":
            return "locked", float(reply[1]), 0, 0
        return reply[0], 0.0, int(reply[1]), int(reply[2])

    def release(self, key: str, now: float) -> None:
        self.client.register_script(_RELEASE_LUA)(keys=[key])


class MemoryStore:
    """Expiring counters in this process (on the limiter's clock), under one lock."""

    in_memory = True
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

    def incr(self, key: str, ttl: int, now: float) -> int:
        with self._lock:
            return self._incr(key, ttl, now)

    def _incr(self, key: str, ttl: int, now: float) -> int:
        value = int(self._live(key, now) or 0) + 1
        self._data[key] = (str(value), now + ttl)
        self._prune(now)
        return value

    def get_many(self, keys: list[str], now: float) -> list[str | None]:
        with self._lock:
            return [self._live(k, now) for k in keys]

    def set(self, key: str, value: str, ttl: int, now: float) -> None:
        with self._lock:
            self._data[key] = (value, now + ttl)
            self._prune(now)

    def delete(self, keys: list[str]) -> None:
        with self._lock:
            for k in keys:
                self._data.pop(k, None)

    def reserve(
        self, keys: tuple[str, str, str], *, now: float, limit: int, weight: float, ttl: int
    ) -> tuple[str, float, int, int]:
        current_key, previous_key, lock_key = keys
        with self._lock:
            current = int(self._live(current_key, now) or 0)
            previous = int(self._live(previous_key, now) or 0)
            outcome, until = _decide(self._live(lock_key, now), current, previous, now=now, limit=limit, weight=weight)
            if outcome == "ok":
                current = self._incr(current_key, ttl, now)
            return outcome, until, current, previous

    def release(self, key: str, now: float) -> None:
        with self._lock:
            value = int(self._live(key, now) or 0)
            if value > 0:
                self._data[key] = (str(value - 1), self._data[key][1])

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
