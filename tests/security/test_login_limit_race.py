"""Issue 16, item 2: the login limit could be raced. Ten simultaneous logins with ten
wrong passwords were all checked under a limit of five, because the counter was read
before the password check and written after it. Now each attempt is reserved
atomically first (a Lua script in Redis, the in-process store under its lock)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.auth import ratelimit, service
from chalicelib.errors import RateLimited
from chalicelib.infra import cache, db
from chalicelib.infra.settings import get_settings
from tests.auth.conftest import PASSWORD, FakeClock, login, post

ATTEMPTS = 10


@pytest.fixture
def wide_pool(monkeypatch):
    """Enough connections that every admitted request reaches the password check at once."""
    monkeypatch.setenv("DB_POOL_MAX_SIZE", str(ATTEMPTS + 2))
    get_settings.cache_clear()
    db.close_pool()
    yield
    monkeypatch.delenv("DB_POOL_MAX_SIZE")
    get_settings.cache_clear()
    db.close_pool()


@pytest.fixture
def frozen_clock(monkeypatch):
    """The limiter's windows stand still (mid-window), so no window rolls during a race."""
    import time

    monkeypatch.setattr(ratelimit, "clock", FakeClock((int(time.time()) // 3600) * 3600 + 7))


@pytest.fixture(params=["redis", "in_process"])
def limiter_store(request, monkeypatch):
    if request.param == "in_process":
        settings = get_settings().model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
        monkeypatch.setattr("chalicelib.infra.cache.get_settings", lambda: settings)
    monkeypatch.setattr(
        ratelimit, "_last_warning", ratelimit._last_warning
    )  # the warning's throttle comes back as it was
    cache.reset()
    ratelimit.memory_store.clear()
    yield request.param
    cache.reset()
    ratelimit.memory_store.clear()


class Gate:
    """Holds every password check until each of the requests has been admitted or refused,
    so admitted requests overlap: none records its failure before the others decided."""

    def __init__(self, total):
        self.total = total
        self.checked = 0
        self.decided = 0
        self.cond = threading.Condition()

    def decide(self, *, checked):
        with self.cond:
            self.decided += 1
            self.checked += checked
            self.cond.notify_all()
            if checked:
                self.cond.wait_for(lambda: self.decided >= self.total, timeout=15)


def test_ten_concurrent_wrong_passwords_get_at_most_five_checks(
    client, wide_pool, limiter_store, frozen_clock, monkeypatch
):
    email = "raced@example.com"
    assert post(client, "/auth/register", {"email": email, "password": PASSWORD}).status_code == 201
    gate = Gate(ATTEMPTS)
    real_verify = service.verify_password

    def counted_verify(password_hash, password):
        gate.decide(checked=True)
        return real_verify(password_hash, password)

    monkeypatch.setattr(service, "verify_password", counted_verify)

    def attempt(i):
        response = login(client, email, f"wrong password number {i}")
        if response.status_code == 429:
            gate.decide(checked=False)
        return response

    with ThreadPoolExecutor(ATTEMPTS) as pool:
        statuses = sorted(r.status_code for r in pool.map(attempt, range(ATTEMPTS)))

    assert gate.checked <= 5
    assert statuses == [401] * 5 + [429] * 5


def test_concurrent_reservations_admit_exactly_the_limit(limiter_store, frozen_clock, redis_clean):
    limit = ratelimit.Limit("race_unit", 5, 60)
    start = threading.Barrier(40)

    def one(_):
        start.wait()
        try:
            ratelimit.reserve(limit, "subject")
            return True
        except RateLimited:
            return False

    with ThreadPoolExecutor(40) as pool:
        admitted = sum(pool.map(one, range(40)))

    assert admitted == 5


def test_a_passed_check_gives_its_reservation_back(limiter_store, frozen_clock, redis_clean):
    limit = ratelimit.Limit("race_unit", 2, 60)
    for _ in range(5):
        with ratelimit.reserve_attempt((limit, "ok-subject")):
            pass  # nothing failed: given back on leaving
    with ratelimit.reserve_attempt((limit, "ok-subject")) as attempt:
        attempt.failed()
    with ratelimit.reserve_attempt((limit, "ok-subject")) as attempt:
        attempt.failed()  # the second failure reaches the limit: locked out

    with pytest.raises(RateLimited):
        ratelimit.reserve(limit, "ok-subject")
