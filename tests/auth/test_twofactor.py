import pyotp
import pytest

from chalicelib.auth import twofactor
from tests.auth.conftest import FakeClock, body_of, login, post


def _code(r):
    return body_of(r)["error"]["code"]


@pytest.fixture
def totp_clock(monkeypatch):
    import time

    clock = FakeClock((int(time.time()) // 30) * 30 + 5)
    monkeypatch.setattr(twofactor, "clock", clock)
    return clock


def _setup(client, user):
    r = post(client, "/auth/2fa/setup", headers=user["headers"])
    assert r.status_code == 200, r.body
    return body_of(r)


def _enable(client, user, totp_clock):
    secret = _setup(client, user)["secret"]
    code = pyotp.TOTP(secret).at(totp_clock())
    r = post(client, "/auth/2fa/enable", {"code": code}, headers=user["headers"])
    assert r.status_code == 200, r.body
    totp_clock.advance(30)  # the enable code's step is spent
    return pyotp.TOTP(secret), body_of(r)["recovery_codes"]


def test_setup_gives_a_secret_and_uri_and_enable_needs_a_valid_code(client, conn, register, totp_clock):
    user = register()
    setup = _setup(client, user)

    assert setup["otpauth_uri"].startswith("otpauth://totp/FiscaFlow:")
    assert f"secret={setup['secret']}" in setup["otpauth_uri"]
    stored = conn.execute("SELECT totp_secret_enc, two_factor_enabled FROM users").fetchone()
    assert stored["totp_secret_enc"] is not None and setup["secret"].encode() not in bytes(stored["totp_secret_enc"])
    assert stored["two_factor_enabled"] is False

    wrong = post(client, "/auth/2fa/enable", {"code": "000000"}, headers=user["headers"])
    if pyotp.TOTP(setup["secret"]).verify("000000", for_time=totp_clock(), valid_window=1):
        pytest.skip("000000 happens to be valid right now")
    assert wrong.status_code == 401 and _code(wrong) == "invalid_credentials"
    assert conn.execute("SELECT two_factor_enabled FROM users").fetchone()["two_factor_enabled"] is False

    code = pyotp.TOTP(setup["secret"]).at(totp_clock())
    r = post(client, "/auth/2fa/enable", {"code": code}, headers=user["headers"])

    assert r.status_code == 200
    out = body_of(r)
    assert out["enabled"] is True and len(out["recovery_codes"]) == 10 and len(set(out["recovery_codes"])) == 10
    assert conn.execute("SELECT count(*) AS n FROM totp_recovery_codes").fetchone()["n"] == 10
    me = body_of(client.http.get("/users/me", headers=user["headers"]))
    assert me["two_factor_enabled"] is True
    events = [r["data"]["event"] for r in conn.execute("SELECT data FROM notifications WHERE type = 'security'")]
    assert events == ["two_factor_enabled"]
    actions = [
        (a["action"], a["success"])
        for a in conn.execute(
            "SELECT action, success FROM audit_logs WHERE action LIKE 'auth.2fa%' ORDER BY created_at"
        )
    ]
    assert actions == [("auth.2fa_setup", True), ("auth.2fa_enabled", False), ("auth.2fa_enabled", True)]

    again = post(client, "/auth/2fa/setup", headers=user["headers"])
    assert again.status_code == 409


def test_enable_without_setup_is_a_conflict(client, register):
    user = register()
    r = post(client, "/auth/2fa/enable", {"code": "123456"}, headers=user["headers"])
    assert r.status_code == 409


def test_login_with_2fa_needs_a_code_and_accepts_each_code_once(client, register, totp_clock):
    user = register()
    totp, _ = _enable(client, user, totp_clock)
    email = user["user"]["email"]

    missing = login(client, email)
    assert missing.status_code == 401 and _code(missing) == "totp_required"
    wrong_password = login(client, email, "not the password at all", totp_code=totp.at(totp_clock()))
    assert _code(wrong_password) == "invalid_credentials"

    code = totp.at(totp_clock())
    wrong_code = str((int(code) + 1) % 1_000_000).zfill(6)
    assert _code(login(client, email, totp_code=wrong_code)) == "invalid_credentials"

    assert login(client, email, totp_code=code).status_code == 200
    replay = login(client, email, totp_code=code)
    assert replay.status_code == 401 and _code(replay) == "invalid_credentials"

    # an older code than the last accepted one is refused too; the next step's code works
    previous = totp.at(totp_clock() - 30)
    assert login(client, email, totp_code=previous).status_code == 401
    totp_clock.advance(30)
    assert login(client, email, totp_code=totp.at(totp_clock())).status_code == 200


def test_a_recovery_code_signs_in_once(client, conn, register, totp_clock):
    user = register()
    _, codes = _enable(client, user, totp_clock)
    email = user["user"]["email"]

    r = login(client, email, totp_code=codes[3].upper().replace("-", " "))

    assert r.status_code == 200
    assert _code(login(client, email, totp_code=codes[3])) == "invalid_credentials"
    assert login(client, email, totp_code=codes[4]).status_code == 200
    assert _code(login(client, email, totp_code="aaaaa-bbbbb")) == "invalid_credentials"
    used = conn.execute("SELECT count(*) AS n FROM totp_recovery_codes WHERE used_at IS NOT NULL").fetchone()
    assert used["n"] == 2
    events = [r["data"]["event"] for r in conn.execute("SELECT data FROM notifications ORDER BY created_at")]
    assert events.count("recovery_code_used") == 2


def test_disable_needs_a_valid_code(client, conn, register, totp_clock):
    user = register()
    totp, _codes = _enable(client, user, totp_clock)
    code = totp.at(totp_clock())
    wrong = str((int(code) + 1) % 1_000_000).zfill(6)

    r = post(client, "/auth/2fa/disable", {"code": wrong}, headers=user["headers"])
    assert r.status_code == 401 and _code(r) == "invalid_credentials"

    r = post(client, "/auth/2fa/disable", {"code": code}, headers=user["headers"])

    assert r.status_code == 200 and body_of(r)["enabled"] is False
    row = conn.execute("SELECT two_factor_enabled, totp_secret_enc FROM users").fetchone()
    assert row == {"two_factor_enabled": False, "totp_secret_enc": None}
    assert conn.execute("SELECT count(*) AS n FROM totp_recovery_codes").fetchone()["n"] == 0
    assert login(client, user["user"]["email"]).status_code == 200
    assert post(client, "/auth/2fa/disable", {"code": code}, headers=user["headers"]).status_code == 409
    events = [r["data"]["event"] for r in conn.execute("SELECT data FROM notifications WHERE type = 'security'")]
    assert "two_factor_disabled" in events


def test_disable_with_a_recovery_code(client, register, totp_clock):
    user = register()
    _, codes = _enable(client, user, totp_clock)

    r = post(client, "/auth/2fa/disable", {"code": codes[0]}, headers=user["headers"])
    assert r.status_code == 200 and body_of(r)["enabled"] is False


def test_secrets_of_2fa_are_not_kept_by_the_idempotency_store(client, conn, register, totp_clock):
    user = register()
    headers = {**user["headers"], "Idempotency-Key": "setup-1"}
    secret = body_of(post(client, "/auth/2fa/setup", headers=headers))["secret"]
    code = pyotp.TOTP(secret).at(totp_clock())
    codes = body_of(post(client, "/auth/2fa/enable", {"code": code}, headers={**headers, "Idempotency-Key": "e1"}))

    stored = conn.execute("SELECT response_body::text AS body FROM idempotency_keys").fetchall()
    assert codes["enabled"] is True
    assert all(secret not in s["body"] and codes["recovery_codes"][0] not in s["body"] for s in stored)
