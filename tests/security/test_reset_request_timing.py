"""Issue 16, item 4: password-reset requests leaked which emails have an account by their
timing (90 ms against 48 ms median) and were limited per address only. Every request is
now answered no sooner than a fixed time after it arrived, and limited per IP too.

The padding is shown on a fake clock (the work of each path is simulated on it), so the
test measures no real time."""

import json

import pytest

from chalicelib.auth import email_links, timing
from chalicelib.infra.settings import get_settings
from tests.auth.conftest import PASSWORD, Outbox, post


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def clock(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0
        self.now += seconds


@pytest.fixture
def fake_time(monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr(timing, "clock", fake.clock)
    monkeypatch.setattr(timing, "sleep", fake.sleep)
    return fake


@pytest.fixture
def outbox(monkeypatch):
    box = Outbox()
    monkeypatch.setattr("chalicelib.auth.mailer.sender", lambda: box)
    return box


@pytest.fixture
def simulated_work(monkeypatch, fake_time):
    """The lookup costs 48 ms on the fake clock, issuing a token and a mail 42 ms more."""
    real_find, real_issue = email_links.repo.find_credentials, email_links._issue

    def find(conn, **kw):
        fake_time.now += 0.048
        return real_find(conn, **kw)

    def issue(conn, **kw):
        fake_time.now += 0.042
        return real_issue(conn, **kw)

    monkeypatch.setattr(email_links.repo, "find_credentials", find)
    monkeypatch.setattr(email_links, "_issue", issue)


def _timed_request(client, fake_time, email, headers=None):
    before = fake_time.now
    r = post(client, "/auth/password-reset/request", {"email": email}, headers=headers)
    return r, round(fake_time.now - before, 6)


def test_known_and_unknown_addresses_are_answered_after_the_same_time(client, outbox, simulated_work, fake_time):
    assert post(client, "/auth/register", {"email": "known@example.com", "password": PASSWORD}).status_code == 201
    floor = get_settings().password_reset_answer_ms / 1000

    known, known_time = _timed_request(client, fake_time, "known@example.com")
    unknown, unknown_time = _timed_request(client, fake_time, "nobody@example.com")

    assert known.status_code == unknown.status_code == 202
    assert json.loads(known.body) == json.loads(unknown.body)
    assert known_time == unknown_time == floor
    assert [m.to for m in outbox.messages if "reset" in m.subject.lower()] == ["known@example.com"]


def test_work_that_overruns_is_padded_to_the_next_step(fake_time):
    with timing.answer_no_sooner_than(0.35, what="test"):
        fake_time.now += 0.4

    assert round(fake_time.now - 1000.0, 6) == 0.7


def test_reset_requests_are_limited_per_ip_across_addresses(client, outbox, monkeypatch):
    monkeypatch.setenv("PASSWORD_RESET_REQUESTS_PER_IP_PER_HOUR", "3")
    monkeypatch.setenv("PASSWORD_RESET_ANSWER_MS", "0")
    get_settings.cache_clear()
    try:
        ip = {"X-Forwarded-For": "203.0.113.77"}
        for i in range(3):
            assert post(client, "/auth/password-reset/request", {"email": f"v{i}@example.com"}, ip).status_code == 202

        refused = post(client, "/auth/password-reset/request", {"email": "v9@example.com"}, ip)
        other_ip = post(
            client, "/auth/password-reset/request", {"email": "v9@example.com"}, {"X-Forwarded-For": "198.51.100.7"}
        )

        assert refused.status_code == 429 and json.loads(refused.body)["error"]["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        assert other_ip.status_code == 202
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_the_default_limits_and_floor():
    settings = get_settings()
    assert settings.password_reset_requests_per_ip_per_hour == 20
    assert settings.password_reset_answer_ms == 350
