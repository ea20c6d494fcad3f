"""Issue 16, item 10: DELETE /users/me needed no password or 2FA re-check, so a stolen
access token was enough to erase an account. It now takes {password} and, when 2FA is
on, totp_code: 401 otherwise, and nothing is erased."""

import json

import pyotp
import pytest

from chalicelib.auth import ratelimit
from chalicelib.auth.passwords import hash_password
from chalicelib.auth.twofactor import SECRET_CONTEXT
from chalicelib.infra import crypto

PASSWORD = "the account's own passphrase"


@pytest.fixture(autouse=True)
def _fresh_limiter():
    ratelimit.memory_store.clear()
    yield
    ratelimit.memory_store.clear()


@pytest.fixture
def person(conn, make_user):
    user = make_user()
    conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", (hash_password(PASSWORD), user["id"]))
    return user


def _with_2fa(conn, user):
    secret = pyotp.random_base32()
    conn.execute(
        "UPDATE users SET totp_secret_enc = %s, two_factor_enabled = true WHERE id = %s",
        (crypto.encrypt(secret, context=SECRET_CONTEXT), user["id"]),
    )
    return pyotp.TOTP(secret)


def _erase(client, user, body=None):
    raw = json.dumps(body) if body is not None else ""
    return client.http.delete("/users/me", headers=user["headers"], body=raw)


def _status(conn, user):
    return conn.execute("SELECT status FROM users WHERE id = %s", (user["id"],)).fetchone()["status"]


def _code(r):
    return json.loads(r.body)["error"]["code"]


@pytest.mark.parametrize("body", [None, {}, {"password": ""}, {"password": "not the passphrase"}])
def test_a_missing_or_wrong_password_erases_nothing(client, conn, person, body):
    r = _erase(client, person, body)

    assert r.status_code == 401 and _code(r) == "invalid_credentials"
    assert _status(conn, person) == "active"
    refused = conn.execute("SELECT success, error_message FROM audit_logs WHERE action = 'auth.reauthenticate'")
    assert refused.fetchone() == {"success": False, "error_message": "invalid_credentials"}


def test_the_right_password_erases(client, conn, person):
    assert _erase(client, person, {"password": PASSWORD}).status_code == 204
    assert _status(conn, person) == "deleted"


def test_with_2fa_on_the_code_is_required_too(client, conn, person):
    totp = _with_2fa(conn, person)

    missing = _erase(client, person, {"password": PASSWORD})
    wrong = _erase(
        client, person, {"password": PASSWORD, "totp_code": "000000" if totp.now() != "000000" else "111111"}
    )
    no_password = _erase(client, person, {"totp_code": totp.now()})

    assert (missing.status_code, _code(missing)) == (401, "totp_required")
    assert (wrong.status_code, _code(wrong)) == (401, "invalid_credentials")
    assert (no_password.status_code, _code(no_password)) == (401, "invalid_credentials")
    assert _status(conn, person) == "active"
    assert _erase(client, person, {"password": PASSWORD, "totp_code": totp.now()}).status_code == 204
    assert _status(conn, person) == "deleted"


def test_guessing_the_password_is_limited_like_signing_in(client, conn, person):
    for _ in range(5):
        assert _erase(client, person, {"password": "a wrong guess"}).status_code == 401

    r = _erase(client, person, {"password": PASSWORD})

    assert r.status_code == 429 and _code(r) == "rate_limited"
    assert _status(conn, person) == "active"
