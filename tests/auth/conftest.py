import json
import uuid

import pytest

from chalicelib.auth import ratelimit

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fresh_limiter():
    ratelimit.memory_store.clear()
    yield
    ratelimit.memory_store.clear()


def body_of(response):
    return json.loads(response.body) if response.body else None


def post(client, path, payload=None, headers=None, raw=None):
    return client.http.post(
        path,
        body=raw if raw is not None else json.dumps(payload or {}),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


@pytest.fixture
def register(client):
    """Register through the API; returns the 201 body plus the password and headers."""

    def make(email=None, password=PASSWORD, **fields):
        email = email or f"person-{uuid.uuid4().hex[:10]}@example.com"
        r = post(client, "/auth/register", {"email": email, "password": password, **fields})
        assert r.status_code == 201, r.body
        out = body_of(r)
        out["password"] = password
        out["headers"] = bearer(out["access_token"])
        return out

    return make


def bearer(token):
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def login(client, email, password=PASSWORD, headers=None, **body):
    return post(client, "/auth/login", {"email": email, "password": password, **body}, headers=headers)


class FakeClock:
    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def limiter_clock(monkeypatch):
    """The rate limiter's clock, moved by hand (start mid-window, far from any boundary)."""
    import time

    clock = FakeClock((int(time.time()) // 3600) * 3600 + 7)
    monkeypatch.setattr(ratelimit, "clock", clock)
    return clock


class Outbox:
    def __init__(self):
        self.messages = []

    def send(self, message):
        self.messages.append(message)

    def token(self, index=-1):
        return self.messages[index].link.split("token=", 1)[1]


@pytest.fixture
def outbox(monkeypatch):
    """Email delivery captured instead of logged."""
    box = Outbox()
    monkeypatch.setattr("chalicelib.auth.mailer.sender", lambda: box)
    return box
