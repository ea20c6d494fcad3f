import json

import pytest

from chalicelib.infra import crypto
from tests.auth.conftest import PASSWORD, body_of, login, post

NEW_PASSWORD = "another long passphrase 7"


def _code(r):
    return body_of(r)["error"]["code"]


def _patch(client, user, payload):
    return client.http.patch("/users/me", body=json.dumps(payload), headers=user["headers"])


def test_get_me_returns_the_contract_fields(client, make_user):
    user = make_user(first_name="Ana")
    r = client.http.get("/users/me", headers=user["headers"])

    assert r.status_code == 200
    me = body_of(r)
    assert set(me) == {
        "id", "email", "first_name", "last_name", "phone", "date_of_birth", "timezone", "locale",
        "role", "status", "email_verified", "two_factor_enabled", "created_at",
    }  # fmt: skip
    assert me["id"] == str(user["id"]) and me["first_name"] == "Ana" and me["phone"] is None


def test_phone_and_birth_date_are_encrypted_at_rest(client, conn, make_user):
    user = make_user()
    r = _patch(client, user, {"phone": "+1 555 010 9999", "date_of_birth": "1988-04-02", "timezone": "Asia/Tokyo"})

    assert r.status_code == 200, r.body
    me = body_of(r)
    assert me["phone"] == "+1 555 010 9999" and me["date_of_birth"] == "1988-04-02" and me["timezone"] == "Asia/Tokyo"
    row = conn.execute("SELECT phone, date_of_birth, phone_enc, date_of_birth_enc, phone_hash FROM users").fetchone()
    assert row["phone"] is None and row["date_of_birth"] is None
    assert crypto.decrypt(row["phone_enc"], context="users.phone") == "+1 555 010 9999"
    assert b"555" not in bytes(row["phone_enc"]) and b"1988" not in bytes(row["date_of_birth_enc"])
    assert row["phone_hash"] == crypto.lookup_hash("+15550109999")
    assert body_of(client.http.get("/users/me", headers=user["headers"]))["date_of_birth"] == "1988-04-02"
    audit = conn.execute("SELECT resource_data FROM audit_logs WHERE action = 'user.updated'").fetchone()
    assert audit["resource_data"] == {"fields": ["date_of_birth", "phone", "timezone"]}

    cleared = body_of(_patch(client, user, {"phone": None}))
    assert cleared["phone"] is None and cleared["date_of_birth"] == "1988-04-02"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"timezone": "Not/AZone"}, "timezone"),
        ({"timezone": None}, "timezone"),
        ({"locale": "xx_yy_zz"}, "locale"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"email": "new@example.com"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"first_name": 42}, "first_name"),
    ],
)
def test_bad_patches_change_nothing(client, conn, make_user, payload, field):
    user = make_user(first_name="Before")
    r = _patch(client, user, {"first_name": "After", **payload} if field != "first_name" else payload)

    assert r.status_code == 400 and _code(r) == "validation_error"
    assert field in {d["field"] for d in body_of(r)["error"]["details"]}
    assert conn.execute("SELECT first_name FROM users").fetchone()["first_name"] == "Before"


def test_password_change_signs_out_the_other_sessions(client, conn, register):
    user = register()
    other = body_of(login(client, user["user"]["email"]))

    r = post(
        client, "/users/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, user["headers"]
    )

    assert r.status_code == 204
    assert client.http.get("/users/me", headers=user["headers"]).status_code == 200
    gone = client.http.get("/users/me", headers={"Authorization": f"Bearer {other['access_token']}"})
    assert gone.status_code == 401 and _code(gone) == "token_revoked"
    assert login(client, user["user"]["email"], NEW_PASSWORD).status_code == 200
    assert _code(login(client, user["user"]["email"], PASSWORD)) == "invalid_credentials"
    notes = [n["data"]["event"] for n in conn.execute("SELECT data FROM notifications WHERE type = 'security'")]
    assert "password_changed" in notes
    assert conn.execute("SELECT password_changed_at FROM users").fetchone()["password_changed_at"] is not None


def test_password_change_needs_the_current_password(client, conn, register):
    user = register()
    wrong = post(
        client,
        "/users/me/password",
        {"current_password": "not my password", "new_password": NEW_PASSWORD},
        user["headers"],
    )
    assert wrong.status_code == 401 and _code(wrong) == "invalid_credentials"
    same = post(client, "/users/me/password", {"current_password": PASSWORD, "new_password": PASSWORD}, user["headers"])
    assert same.status_code == 400
    short = post(client, "/users/me/password", {"current_password": PASSWORD, "new_password": "short"}, user["headers"])
    assert short.status_code == 400
    assert login(client, user["user"]["email"], PASSWORD).status_code == 200
    failed = conn.execute(
        "SELECT count(*) AS n FROM audit_logs WHERE action = 'auth.password_changed' AND NOT success"
    ).fetchone()
    assert failed["n"] == 1


def test_me_needs_a_token(client):
    assert client.http.get("/users/me").status_code == 401
    assert client.http.patch("/users/me", body="{}").status_code == 401
