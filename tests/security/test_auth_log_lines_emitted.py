"""Issue 16, item 9: security log lines were lost. Every `auth event` record carrying a
UUID failed in the masking formatter (`Object of type UUID is not JSON serializable`)
and was dropped. UUIDs, dates and Decimals are serialized now, and each audit-relevant
line is shown to be emitted."""

import io
import json
import logging
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pyotp
import pytest

from chalicelib.infra.logging import logger
from tests.auth.conftest import PASSWORD, Outbox, bearer, body_of, post


@pytest.fixture
def outbox(monkeypatch):
    box = Outbox()
    monkeypatch.setattr("chalicelib.auth.mailer.sender", lambda: box)
    return box


@pytest.fixture
def log_records():
    """Every line the formatter wrote, parsed, plus whatever logging itself reported as lost."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    lost = []
    handler.handleError = lambda record: lost.append(record)  # logging drops a record it cannot format
    logger.addHandler(handler)
    previous = logger.log_level
    logger.setLevel(logging.DEBUG)

    def lines():
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    lines.lost = lost
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(previous)


def test_uuids_dates_and_decimals_are_serialized_and_personal_data_still_masked(log_records):
    user_id, when = uuid.uuid4(), datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    logger.info(
        "auth event",
        extra={
            "user_id": user_id,
            "data": {"session_id": user_id, "on": date(2026, 12, 1), "at": when, "amount": Decimal("-42.10")},
            "email": "jane@example.com",
            "token": "secret-value",
        },
    )

    (line,) = log_records()
    assert not log_records.lost
    assert line["user_id"] == str(user_id) and line["data"]["session_id"] == str(user_id)
    assert line["data"]["on"] == "2026-12-01" and line["data"]["at"].startswith("2026-12-01T09:30:00")
    assert line["data"]["amount"] == "-42.10"
    assert line["email"] == "j***@example.com" and line["token"] != "secret-value"


def test_every_auth_event_reaches_the_log(client, log_records, outbox):
    email = "trail@example.com"
    registered = body_of(post(client, "/auth/register", {"email": email, "password": PASSWORD}))
    headers = bearer(registered["access_token"])
    post(client, "/auth/verify-email", {"token": outbox.token()})
    post(client, "/auth/login", {"email": email, "password": "not the password at all"})
    signed_in = body_of(post(client, "/auth/login", {"email": email, "password": PASSWORD}))
    refreshed = body_of(post(client, "/auth/refresh", {"refresh_token": signed_in["refresh_token"]}))
    post(client, "/auth/refresh", {"refresh_token": signed_in["refresh_token"]})  # reuse: the chain is revoked
    secret = body_of(post(client, "/auth/2fa/setup", headers=headers))["secret"]
    post(client, "/auth/2fa/enable", {"code": pyotp.TOTP(secret).now()}, headers=headers)
    change = {"current_password": PASSWORD, "new_password": "another long passphrase"}
    post(client, "/users/me/password", change, headers=headers)
    post(client, "/auth/password-reset/request", {"email": email})
    post(client, "/auth/password-reset/confirm", {"token": outbox.token(), "new_password": "a third long passphrase"})
    assert refreshed is not None

    events = [line for line in log_records() if line["message"] == "auth event"]
    actions = {line["action"] for line in events}
    assert not log_records.lost
    assert {
        "auth.register",
        "auth.email_verified",
        "auth.login",
        "auth.refresh",
        "auth.refresh_token_reuse",
        "auth.2fa_setup",
        "auth.2fa_enabled",
        "auth.password_changed",
        "auth.password_reset_requested",
        "auth.password_reset",
    } <= actions
    failed_login = next(line for line in events if line["action"] == "auth.login" and not line["success"])
    assert failed_login["error"] == "invalid_credentials" and failed_login["data"]["email"] == "t***@example.com"
    register = next(line for line in events if line["action"] == "auth.register")
    assert uuid.UUID(register["user_id"]) and uuid.UUID(register["data"]["session_id"])


def test_session_ends_reach_the_log(client, log_records):
    email = "ends@example.com"
    first = body_of(post(client, "/auth/register", {"email": email, "password": PASSWORD}))
    second = body_of(post(client, "/auth/login", {"email": email, "password": PASSWORD}))
    third = body_of(post(client, "/auth/login", {"email": email, "password": PASSWORD}))

    post(client, "/auth/logout", headers=bearer(third["access_token"]))
    sessions = client.http.get("/auth/sessions", headers=bearer(first["access_token"]))
    other = next(s["id"] for s in body_of(sessions)["items"] if not s["current"])
    client.http.delete(f"/auth/sessions/{other}", headers=bearer(first["access_token"]))
    post(client, "/auth/logout-all", headers=bearer(first["access_token"]))
    assert second is not None

    actions = [line["action"] for line in log_records() if line["message"] == "auth event"]
    assert not log_records.lost
    assert {"auth.session_revoked", "auth.logout", "auth.logout_all"} <= set(actions)


def test_a_record_the_masker_cannot_handle_is_still_written_without_its_personal_data(log_records, monkeypatch):
    def broken(_):
        raise RuntimeError("masking rules broke")

    monkeypatch.setattr("chalicelib.infra.masking.mask", broken)
    logger.warning("auth event", extra={"email": "jane@example.com", "action": "auth.login"})

    (line,) = log_records()
    assert line["message"] == "auth event" and line["masking_error"] == "RuntimeError"
    assert "jane" not in json.dumps(line)
