import json

import pytest

from chalicelib.auth import ratelimit
from chalicelib.errors import RateLimited
from chalicelib.infra import cache
from tests.auth.conftest import PASSWORD, body_of, login, post


def _limited(r):
    return r.status_code == 429 and body_of(r)["error"]["code"] == "rate_limited"


def test_failed_logins_lock_the_account_then_it_recovers(client, register, limiter_clock):
    user = register()
    email = user["user"]["email"]
    for _ in range(5):
        assert login(client, email, "wrong password here").status_code == 401

    locked = login(client, email, PASSWORD)  # even the right password waits out the lockout

    assert _limited(locked)
    assert 1 <= int(locked.headers["Retry-After"]) <= 60
    limiter_clock.advance(61)
    assert login(client, email, PASSWORD).status_code == 200


def test_successful_logins_do_not_count(client, register, limiter_clock):
    user = register()
    for _ in range(7):
        assert login(client, user["user"]["email"]).status_code == 200


def test_the_lockout_grows_with_each_trip(client, register, limiter_clock, settings_env):
    settings_env(login_failures_per_account_per_minute=2)
    email = register()["user"]["email"]

    def trip():
        for _ in range(2):
            assert login(client, email, "wrong password here").status_code == 401
        r = login(client, email, "wrong password here")
        assert _limited(r)
        return int(r.headers["Retry-After"])

    first = trip()
    limiter_clock.advance(first + 61)  # lockout over and the failures out of the window
    second = trip()

    assert first == 60 and second == 120


def test_failures_from_one_ip_are_limited_across_accounts(client, register, limiter_clock, settings_env):
    settings_env(login_failures_per_ip_per_minute=3)
    ip = {"X-Forwarded-For": "203.0.113.9"}
    for i in range(3):
        assert login(client, f"victim{i}@example.com", "wrong password here", headers=ip).status_code == 401

    assert _limited(login(client, "victim9@example.com", "wrong password here", headers=ip))
    other_ip = login(client, "victim9@example.com", "wrong password here", headers={"X-Forwarded-For": "198.51.100.1"})
    assert other_ip.status_code == 401


def test_registration_is_limited_per_ip(client, limiter_clock, settings_env):
    settings_env(registrations_per_ip_per_minute=2)
    for i in range(2):
        assert post(client, "/auth/register", {"email": f"new{i}@example.com", "password": PASSWORD}).status_code == 201
    r = post(client, "/auth/register", {"email": "new9@example.com", "password": PASSWORD})

    assert _limited(r) and int(r.headers["Retry-After"]) >= 1
    limiter_clock.advance(120)
    assert post(client, "/auth/register", {"email": "new9@example.com", "password": PASSWORD}).status_code == 201


def test_password_reset_requests_are_limited_per_account(client, limiter_clock, outbox):
    for _ in range(5):
        assert post(client, "/auth/password-reset/request", {"email": "who@example.com"}).status_code == 202
    r = post(client, "/auth/password-reset/request", {"email": "WHO@example.com"})

    assert _limited(r) and int(r.headers["Retry-After"]) > 60
    assert post(client, "/auth/password-reset/request", {"email": "other@example.com"}).status_code == 202
    limiter_clock.advance(2 * 3600)
    assert post(client, "/auth/password-reset/request", {"email": "who@example.com"}).status_code == 202


def test_authenticated_routes_are_limited_per_user(client, make_user, limiter_clock, settings_env):
    settings_env(api_requests_per_user_per_minute=3)
    alice, bob = make_user(), make_user()
    for _ in range(3):
        assert client.http.get("/users/me", headers=alice["headers"]).status_code == 200

    r = client.http.get("/users/me", headers=alice["headers"])

    assert _limited(r) and "Retry-After" in r.headers
    assert client.http.get("/users/me", headers=bob["headers"]).status_code == 200
    limiter_clock.advance(120)
    assert client.http.get("/users/me", headers=alice["headers"]).status_code == 200


def test_the_default_limits_are_the_contracts():
    assert ratelimit.login_account_limit() == ratelimit.Limit("login_account", 5, 60)
    assert ratelimit.login_ip_limit() == ratelimit.Limit("login_ip", 20, 60)
    assert ratelimit.registration_limit() == ratelimit.Limit("register_ip", 60, 60)
    assert ratelimit.password_reset_limit() == ratelimit.Limit("reset_account", 5, 3600)
    assert ratelimit.api_user_limit().limit >= 600


@pytest.fixture
def redis_unreachable(monkeypatch):
    """Point the cache adapter at a port where nothing listens."""
    from chalicelib.infra.settings import get_settings

    settings = get_settings().model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    monkeypatch.setattr("chalicelib.infra.cache.get_settings", lambda: settings)
    cache.reset()
    yield
    cache.reset()


def test_with_redis_unreachable_limits_hold_in_process_and_a_warning_is_logged(
    client, register, limiter_clock, redis_unreachable, log_lines
):
    user = register()
    for _ in range(5):
        assert login(client, user["user"]["email"], "wrong password here").status_code == 401

    assert _limited(login(client, user["user"]["email"], PASSWORD))
    warnings = [json.loads(line) for line in log_lines.getvalue().splitlines() if "in-process" in line]
    assert warnings and warnings[0]["level"] == "WARNING"
    # the API keeps serving: sessions are checked in PostgreSQL
    assert client.http.get("/users/me", headers=user["headers"]).status_code == 200
    limiter_clock.advance(61)
    assert login(client, user["user"]["email"], PASSWORD).status_code == 200


def test_sliding_window_counts_the_previous_window_by_its_overlap(limiter_clock, redis_clean):
    limit = ratelimit.Limit("unit", 4, 60)
    ratelimit.memory_store.clear()
    for _ in range(4):
        ratelimit.hit(limit, "s")
    limiter_clock.advance(60)  # next window, 7 s in: the previous still weighs ~88%
    with pytest.raises(RateLimited):
        ratelimit.hit(limit, "s")
    limiter_clock.advance(50)  # 57 s in: previous weighs 5%, 4*0.05 + 2 hits < 4
    ratelimit.hit(limit, "s")


def test_retry_after_is_when_the_estimate_drops_below_the_limit():
    limit = ratelimit.Limit("unit", 10, 60)
    # 10 in the current window, 0 before: wait for the window to roll
    assert ratelimit._retry_after(limit, 10, 0, elapsed=20) == 40
    # 5 now, 10 before, 30 s in: 5 + 10*(1 - (30+t)/60) < 10 once t > 0 -> at least 1
    assert ratelimit._retry_after(limit, 5, 10, elapsed=30) == 1
    # 8 now, 10 before, 6 s in: 8 + 10*(1 - (6+t)/60) < 10 once t > 42
    assert ratelimit._retry_after(limit, 8, 10, elapsed=6) == 42
