"""Rate limits: counters in Redis, an in-process fallback when Redis is unreachable.

Algorithm: a sliding-window counter — two fixed windows, the previous one weighted by
the share of it the sliding window still covers. A plain fixed window lets twice the
limit through around a boundary (5 failed logins at 0:59 and 5 more at 1:00), which for
a login limit doubles an attacker's guesses; a sliding log (a sorted set of timestamps)
is exact but stores every event (600 per user per minute for the API limit). The
counter costs one INCR round trip and two small keys per subject, and stays within the
limit at the boundary; its only error is assuming the previous window's events were
spread evenly.

Two kinds of limit. Request limits (`hit`: registration, reset requests, the API) count
every request, refused ones too: a client that ignores Retry-After stays refused.
Failure limits (`reserve`: sign-in and every other password or code check) reserve the
attempt atomically *before* the secret is checked and give it back when the check
passes; checking first and counting after let ten simultaneous guesses all be checked
under a limit of five. A refused attempt is not counted (the lockout already holds it).

Redis down: the same limits are enforced by an in-process store (each process then
counts only what it sees — never "no limit"), and a warning is logged."""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TypeVar

import redis

from chalicelib.auth.limit_store import MemoryStore, RedisStore, Store
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


def password_reset_ip_limit() -> Limit:
    return Limit("reset_ip", get_settings().password_reset_requests_per_ip_per_hour, 3600)


def api_user_limit() -> Limit:
    return Limit("api_user", get_settings().api_requests_per_user_per_minute, 60)


memory_store = MemoryStore()
_last_warning = 0.0


def _run(op: Callable[[Store], T], *, in_memory: bool = False) -> T:
    client = None if in_memory else cache.client()
    if client is not None:
        try:
            return op(RedisStore(client))
        except redis.RedisError as exc:
            cache.mark_down(exc)
    if not in_memory:
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

    def op(store: Store) -> tuple[int, int]:
        # INCR first: the count a request is judged by already includes it, so concurrent
        # requests each see a different count and at most `limit` pass.
        current = store.incr(current_key, 2 * limit.window_seconds, now)
        return current, int(store.get_many([previous_key], now)[0] or 0)

    current, previous = _run(op)
    if _estimate(limit, current, previous, elapsed) > limit.limit:
        raise RateLimited(retry_after=_retry_after(limit, current, previous, elapsed))


@dataclass(frozen=True)
class Reservation:
    """One attempt counted against one limit before it was checked."""

    limit: Limit
    subject: str
    key: str  # the window counter it was counted in (the window may roll before it ends)
    estimate: float  # the sliding estimate with this attempt in it
    now: float
    in_memory: bool  # which store holds it: it is settled in the same one


def reserve(limit: Limit, subject: str) -> Reservation:
    """Count one attempt before checking it; RateLimited, counting nothing, while the subject
    is locked out or already at its limit."""
    now = clock()
    current_key, previous_key, elapsed = _keys(limit, subject, now)
    weight = 1 - elapsed / limit.window_seconds
    keys = (current_key, previous_key, _lock_key(limit, subject))

    def op(store: Store) -> tuple[str, float, int, int, bool]:
        outcome = store.reserve(keys, now=now, limit=limit.limit, weight=weight, ttl=2 * limit.window_seconds)
        return (*outcome, store.in_memory)

    outcome, locked_until, current, previous, in_memory = _run(op)
    if outcome == "locked":
        raise RateLimited("Too many failed attempts; try again later", retry_after=math.ceil(locked_until - now))
    if outcome == "full":
        raise RateLimited(
            "Too many failed attempts; try again later", retry_after=_retry_after(limit, current, previous, elapsed)
        )
    return Reservation(limit, subject, current_key, current + previous * weight, now, in_memory)


def release(reservation: Reservation) -> None:
    """The attempt did not fail (it passed, or never got checked): give it back."""
    _run(lambda store: store.release(reservation.key, clock()), in_memory=reservation.in_memory)


def fail(reservation: Reservation, *, lockout_base: int, lockout_max: int) -> None:
    """The attempt failed and stays counted. The one that brings the subject to its limit
    locks it out, for a time that doubles with each trip within a day (base, 2x base, 4x
    base, ... up to the cap)."""
    limit, subject = reservation.limit, reservation.subject
    if reservation.estimate < limit.limit:
        return

    def op(store: Store) -> None:
        trips = store.incr(_trips_key(limit, subject), _TRIPS_MEMORY_SECONDS, reservation.now)
        duration = min(lockout_max, lockout_base * 2 ** min(trips - 1, 30))
        store.set(_lock_key(limit, subject), repr(reservation.now + duration), duration + 1, reservation.now)

    _run(op, in_memory=reservation.in_memory)


def clear(limit: Limit, subject: str) -> None:
    """Forget a subject's counted failures (a successful login); its trip history stays."""
    now = clock()
    current_key, previous_key, _ = _keys(limit, subject, now)
    _run(lambda store: store.delete([current_key, previous_key]))


class Attempt:
    """Failure-limited attempts reserved together, settled once the secret was checked:
    `failed()` keeps them counted; leaving the block otherwise gives them back."""

    def __init__(self, reservations: list[Reservation], *, lockout_base: int, lockout_max: int):
        self.reservations = reservations
        self._lockout = {"lockout_base": lockout_base, "lockout_max": lockout_max}
        self._settled = False

    def failed(self) -> None:
        if not self._settled:
            self._settled = True
            for reservation in self.reservations:
                fail(reservation, **self._lockout)

    def __enter__(self) -> "Attempt":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._settled:
            self._settled = True
            for reservation in self.reservations:
                release(reservation)


def reserve_attempt(*subjects: tuple[Limit, str]) -> Attempt:
    """Reserve one attempt under each (limit, subject), all or none, with the sign-in lockout."""
    settings = get_settings()
    taken: list[Reservation] = []
    try:
        for limit, subject in subjects:
            taken.append(reserve(limit, subject))
    except BaseException:
        for reservation in taken:
            release(reservation)
        raise
    return Attempt(
        taken, lockout_base=settings.login_lockout_base_seconds, lockout_max=settings.login_lockout_max_seconds
    )


def sign_in_attempt(*, account: str, ip: str | None = None) -> Attempt:
    """A check of an account's password or code: limited per account and, given one, per IP."""
    subjects = [(login_account_limit(), account)]
    if ip is not None:
        subjects.append((login_ip_limit(), ip))
    return reserve_attempt(*subjects)
