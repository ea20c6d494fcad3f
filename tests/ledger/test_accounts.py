"""Accounts through the API: encryption of the number, balances, deactivation, families."""

import json

from chalicelib.infra import crypto
from tests.factories import make_account, make_transaction
from tests.ledger.conftest import balance, count

NUMBER = "DE89 3704 0044 0532 0130 00"


def test_the_account_number_is_encrypted_hashed_and_only_masked_outside(api, make_user, conn):
    user = make_user()
    r = api.post("/accounts", user, {"name": "Main", "type": "checking", "account_number": NUMBER})

    assert r.status == 201
    assert r.body["account_number_masked"] == "****3000"
    assert "account_number" not in r.body
    row = conn.execute("SELECT * FROM accounts WHERE id = %s", (r.body["id"],)).fetchone()
    assert crypto.decrypt(row["account_number_enc"], context="accounts.account_number") == "DE89370400440532013000"
    assert row["account_number_hash"] == crypto.lookup_hash("DE89370400440532013000")
    assert row["account_number_last4"] == "3000"
    audit = conn.execute("SELECT resource_data, ip_address, action FROM audit_logs").fetchone()
    assert audit["action"] == "account.create"
    assert "370400440532" not in json.dumps(audit["resource_data"])
    assert "370400440532" not in json.dumps(api.get(f"/accounts/{r.body['id']}", user).body)


def test_six_types_and_bad_input(api, make_user, conn):
    user = make_user()
    for t in ("checking", "savings", "credit_card", "investment", "loan", "other"):
        assert api.post("/accounts", user, {"name": t, "type": t}).status == 201
    for bad in (
        {"name": "x", "type": "piggy"},
        {"name": "", "type": "checking"},
        {"name": "x", "type": "checking", "currency": "EURO"},
        {"name": "x", "type": "checking", "opening_balance": "1.001"},
        {"name": "x", "type": "checking", "account_number": "12"},
        {"name": "x", "type": "savings", "opening_balance": "-1.00"},
        {"name": "x", "type": "checking", "balance": "5.00"},
    ):
        r = api.post("/accounts", user, bad)
        assert r.status == 400 and r.body["error"]["code"] == "validation_error", bad
    assert count(conn, "accounts") == 6


def test_opening_balance_and_transactions_make_the_balance(api, make_user, conn):
    user = make_user()
    acc = api.post("/accounts", user, {"name": "Card", "type": "credit_card", "opening_balance": "-250.00"}).body
    assert acc["balance"] == "-250.00"
    make_transaction(conn, user["id"], acc["id"], "-50.25")
    make_transaction(conn, user["id"], acc["id"], "-10.00", status="cancelled")

    r = api.patch(f"/accounts/{acc['id']}", user, {"opening_balance": "-200.00", "name": "Visa"})

    assert r.status == 200
    assert r.body["balance"] == "-250.25" and r.body["opening_balance"] == "-200.00" and r.body["name"] == "Visa"
    assert api.patch(f"/accounts/{acc['id']}", user, {"balance": "1.00"}).status == 400


def test_savings_cannot_go_below_zero(api, make_user, conn):
    user = make_user()
    acc = api.post("/accounts", user, {"name": "Savings", "type": "savings", "opening_balance": "10.00"}).body
    r = api.post(
        "/transactions",
        user,
        {"account_id": acc["id"], "amount": "-10.01", "description": "Too much", "transaction_date": "2025-01-02"},
    )
    assert r.status == 409
    assert count(conn, "transactions") == 0 and count(conn, "audit_logs", "resource_type = 'transaction'") == 0
    assert api.patch(f"/accounts/{acc['id']}", user, {"opening_balance": "-1.00"}).status == 409
    assert balance(conn, acc["id"]) == "10.00"


def test_an_opening_balance_that_would_overflow_the_balance_is_refused(api, make_user, conn):
    """Regression (fuzz): a valid opening balance that takes the balance past 13 digits was a 500."""
    user = make_user()
    acc = api.post("/accounts", user, {"name": "Current", "type": "checking", "opening_balance": "0.00"}).body
    api.post(
        "/transactions",
        user,
        {"account_id": acc["id"], "amount": "500.00", "description": "Pay", "transaction_date": "2025-01-02"},
    )
    r = api.patch(f"/accounts/{acc['id']}", user, {"opening_balance": "9999999999999.98"})
    assert r.status == 409 and r.body["error"]["code"] == "conflict"
    assert balance(conn, acc["id"]) == "500.00"


def test_delete_removes_an_unused_account_and_deactivates_a_used_one(api, make_user, conn):
    user = make_user()
    unused = api.post("/accounts", user, {"name": "Unused", "type": "checking"}).body
    used = api.post("/accounts", user, {"name": "Used", "type": "checking", "opening_balance": "5.00"}).body
    make_transaction(conn, user["id"], used["id"], "-1.00")

    assert api.delete(f"/accounts/{unused['id']}", user).status == 204
    assert api.delete(f"/accounts/{used['id']}", user).status == 204

    assert count(conn, "accounts", "id = %s", (unused["id"],)) == 0
    assert api.get(f"/accounts/{unused['id']}", user).status == 404
    kept = api.get(f"/accounts/{used['id']}", user).body
    assert kept["is_active"] is False and kept["balance"] == "4.00"
    assert api.get("/accounts", user).body["items"] == []
    assert [a["id"] for a in api.get("/accounts?include_inactive=true", user).body["items"]] == [used["id"]]
    assert count(conn, "transactions") == 1
    r = api.post(
        "/transactions",
        user,
        {"account_id": used["id"], "amount": "1.00", "description": "x", "transaction_date": "2025-01-01"},
    )
    assert r.status == 409
    actions = [r["action"] for r in conn.execute("SELECT action FROM audit_logs ORDER BY created_at")]
    assert actions[-2:] == ["account.delete", "account.deactivate"]
    assert api.patch(f"/accounts/{used['id']}", user, {"is_active": True}).body["is_active"] is True


def test_family_accounts_are_managed_by_admins_and_read_by_members(api, household, conn):
    h = household
    body = {"name": "Joint", "type": "checking", "family_id": str(h.family_id)}
    assert api.post("/accounts", h.member, body).status == 403
    assert api.post("/accounts", h.stranger, body).status == 404
    acc = api.post("/accounts", h.admin, body).body
    assert acc["family_id"] == str(h.family_id) and acc["user_id"] == str(h.admin["id"])

    for who in (h.owner, h.admin, h.member, h.viewer):
        assert [a["id"] for a in api.get("/accounts", who).body["items"]] == [acc["id"]]
        assert api.get(f"/accounts/{acc['id']}", who).status == 200
    assert api.get("/accounts", h.stranger).body["items"] == []
    assert api.get(f"/accounts?family_id={h.family_id}", h.stranger).status == 404
    assert api.patch(f"/accounts/{acc['id']}", h.member, {"name": "Mine"}).status == 403
    assert api.delete(f"/accounts/{acc['id']}", h.viewer).status == 403
    assert api.patch(f"/accounts/{acc['id']}", h.owner, {"name": "Ours"}).body["name"] == "Ours"


def test_moving_an_account_into_and_out_of_a_family_moves_its_transactions(api, household, conn):
    h = household
    acc = make_account(conn, h.member["id"], name="Mine")
    t = make_transaction(conn, h.member["id"], acc, "-3.00")
    assert api.patch(f"/accounts/{acc}", h.member, {"family_id": str(h.family_id)}).status == 403
    conn.execute("UPDATE family_members SET role = 'admin' WHERE user_id = %s", (h.member["id"],))

    r = api.patch(f"/accounts/{acc}", h.member, {"family_id": str(h.family_id)})

    assert r.status == 200 and r.body["family_id"] == str(h.family_id)
    assert conn.execute("SELECT family_id FROM transactions WHERE id = %s", (t,)).fetchone()["family_id"] == h.family_id
    assert api.get(f"/transactions/{t}", h.viewer).status == 200

    r = api.patch(f"/accounts/{acc}", h.owner, {"family_id": None})

    assert r.body["family_id"] is None and r.body["user_id"] == str(h.owner["id"])
    assert api.get(f"/transactions/{t}", h.viewer).status == 404
    assert api.get(f"/transactions/{t}", h.owner).body["user_id"] == str(h.owner["id"])
    assert balance(conn, acc) == "-3.00"


def test_accounts_page_with_a_cursor(api, make_user, conn):
    user = make_user()
    ids = [make_account(conn, user["id"], name=f"A{i}") for i in range(5)]
    first = api.get("/accounts?limit=2", user).body
    second = api.get(f"/accounts?limit=2&cursor={first['next_cursor']}", user).body
    third = api.get(f"/accounts?limit=2&cursor={second['next_cursor']}", user).body
    got = [a["id"] for page in (first, second, third) for a in page["items"]]
    assert sorted(got) == sorted(str(i) for i in ids) and third["next_cursor"] is None
    assert api.get("/accounts?limit=0", user).status == 400
    assert api.get("/accounts?cursor=garbage", user).status == 400
