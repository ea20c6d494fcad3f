"""Issue 16, item 6: clear copies of encrypted fields. PATCH /users/me with an
Idempotency-Key stored phone and date of birth in clear in
idempotency_keys.response_body. Every stored reply is now encrypted like the fields."""

import json

from tests.factories import make_account


def _stored_bodies(conn):
    return [r["b"] for r in conn.execute("SELECT response_body::text AS b FROM idempotency_keys")]


def test_a_replayed_profile_change_is_stored_encrypted_and_replays_the_same(client, conn, make_user):
    user = make_user()
    headers = {**user["headers"], "Idempotency-Key": "profile-1"}
    body = json.dumps({"phone": "+1 555 010 4242", "date_of_birth": "1979-11-23"})

    first = client.http.patch("/users/me", body=body, headers=headers)
    again = client.http.patch("/users/me", body=body, headers=headers)

    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert json.loads(again.body) == json.loads(first.body)
    assert json.loads(again.body)["phone"] == "+1 555 010 4242"
    (stored,) = _stored_bodies(conn)
    for clear in ("555", "4242", "1979", "11-23", user["email"]):
        assert clear not in stored
    assert set(json.loads(stored)) == {"encrypted_response"}


def test_replies_of_other_routes_are_stored_encrypted_too(client, conn, make_user):
    user = make_user()
    account = make_account(conn, user["id"])
    headers = {**user["headers"], "Idempotency-Key": "tx-1"}
    body = {"account_id": str(account), "amount": "-12.34", "description": "Pharmacy Lindenstrasse",
            "transaction_date": "2026-11-30", "notes": "prescription"}  # fmt: skip

    r = client.http.post("/transactions", body=json.dumps(body), headers=headers)

    assert r.status_code == 201
    (stored,) = _stored_bodies(conn)
    assert "Pharmacy" not in stored and "prescription" not in stored and "12.34" not in stored
