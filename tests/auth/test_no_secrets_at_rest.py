"""No password, refresh token, TOTP secret or recovery code is kept in clear: not in
any table, not in Redis, not in any log line written while they were in use."""

import os

import pyotp
from psycopg import sql

from tests.auth.conftest import PASSWORD, body_of, login, post

NEW_PASSWORD = "the second passphrase 99"
RESET_PASSWORD = "the third passphrase 123"


def _all_rows_as_text(conn) -> str:
    tables = [
        r["relname"]
        for r in conn.execute(
            """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"""
        )
    ]
    assert {"users", "user_sessions", "spent_refresh_tokens", "totp_recovery_codes", "audit_logs"} <= set(tables)
    chunks = []
    for table in tables:
        rows = conn.execute(sql.SQL("SELECT t::text AS row FROM {} t").format(sql.Identifier(table))).fetchall()
        chunks.extend(r["row"] for r in rows)
    return "\n".join(chunks)


def test_no_secret_is_stored_or_logged_in_clear(client, conn, redis_clean, register, outbox, log_lines, monkeypatch):
    import time

    from chalicelib.auth import twofactor

    now = [float((int(time.time()) // 30) * 30 + 5)]
    monkeypatch.setattr(twofactor, "clock", lambda: now[0])
    secrets = [PASSWORD, NEW_PASSWORD, RESET_PASSWORD]

    user = register(device_name="Laptop")
    email = user["user"]["email"]
    secrets.append(user["refresh_token"])
    signed_in = body_of(login(client, email, headers={"User-Agent": "Phone/9"}))
    secrets.append(signed_in["refresh_token"])
    pair = body_of(post(client, "/auth/refresh", {"refresh_token": signed_in["refresh_token"]}))
    secrets.append(pair["refresh_token"])
    assert login(client, email, "a wrong password, logged?").status_code == 401
    secrets.append("a wrong password, logged?")

    setup = body_of(post(client, "/auth/2fa/setup", headers=user["headers"]))
    secrets.append(setup["secret"])
    totp = pyotp.TOTP(setup["secret"])
    enabled = body_of(post(client, "/auth/2fa/enable", {"code": totp.at(now[0])}, headers=user["headers"]))
    codes = enabled["recovery_codes"]
    secrets += codes + [c.replace("-", "") for c in codes]
    with_code = login(client, email, totp_code=codes[0])
    assert with_code.status_code == 200
    secrets.append(body_of(with_code)["refresh_token"])

    changed = post(
        client, "/users/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, user["headers"]
    )
    assert changed.status_code == 204
    post(client, "/auth/password-reset/request", {"email": email})
    reset = post(client, "/auth/password-reset/confirm", {"token": outbox.token(), "new_password": RESET_PASSWORD})
    assert reset.status_code == 204

    stored = _all_rows_as_text(conn)
    assert email in stored  # the dump did read the rows
    prefix = os.environ["REDIS_KEY_PREFIX"]
    redis_values = [redis_clean.get(k) or "" for k in redis_clean.scan_iter(match=f"{prefix}*", count=1000)]
    logged = log_lines.getvalue()
    assert '"action":"auth.login"' in logged  # there was something to search
    for secret in secrets:
        assert secret not in stored, "a secret is stored in clear"
        assert secret not in logged, "a secret was logged"
        assert all(secret not in v for v in redis_values), "a secret is in Redis"
