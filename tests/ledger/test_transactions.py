"""Transactions through the API: fields, bad input, status, moves, categorization source."""

from datetime import date, timedelta

import pytest

from tests.factories import default_category, make_account, make_transaction
from tests.ledger.conftest import balance, count

TODAY = date.today()


@pytest.fixture
def owner_and_account(make_user, conn):
    user = make_user()
    return user, make_account(conn, user["id"], opening_balance="100.00")


def _body(account_id, **extra):
    return {
        "account_id": str(account_id),
        "amount": "-42.10",
        "description": "Groceries",
        "transaction_date": str(TODAY),
        **extra,
    }


def test_create_with_every_field_writes_audit_and_outbox(api, owner_and_account, conn):
    user, acc = owner_and_account
    cat = default_category(conn, "Groceries", "Food & Dining")
    body = _body(
        acc,
        merchant="Corner Shop",
        category_id=str(cat),
        status="pending",
        posted_date=str(TODAY + timedelta(days=1)),
        currency="usd",
        location={"city": "Lyon", "lat": 45.76},
        tags=["food", "weekly", "food"],
        notes="with receipt",
        external_id="bank-123",
    )

    r = api.post("/transactions", user, body, headers={"User-Agent": "pytest-agent", "X-Forwarded-For": "203.0.113.9"})

    assert r.status == 201
    t = r.body
    assert t["amount"] == "-42.10" and t["currency"] == "USD" and t["status"] == "pending"
    assert t["tags"] == ["food", "weekly"] and t["location"] == {"city": "Lyon", "lat": 45.76}
    assert t["category_id"] == str(cat) and t["categorization_source"] == "manual"
    assert t["family_id"] is None and t["user_id"] == str(user["id"]) and t["receipt_url"] is None
    assert balance(conn, acc) == "57.90"
    audit = conn.execute("SELECT * FROM audit_logs WHERE resource_type = 'transaction'").fetchone()
    assert audit["action"] == "transaction.create" and str(audit["resource_id"]) == t["id"]
    assert str(audit["ip_address"]) == "203.0.113.9" and audit["user_agent"] == "pytest-agent" and audit["success"]
    assert audit["resource_data"]["after"]["amount"] == "-42.10"
    assert count(conn, "outbox", "aggregate_type = 'transaction' AND aggregate_id = %s", (t["id"],)) == 1
    assert api.get(f"/transactions/{t['id']}", user).body == t


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"amount": "0"}, 400),
        ({"amount": "0.00"}, 400),
        ({"amount": "-1.234"}, 400),
        ({"amount": "abc"}, 400),
        ({"transaction_date": "2025-02-29"}, 400),
        ({"transaction_date": "2025-13-01"}, 400),
        ({"transaction_date": "1714000000"}, 400),
        ({"posted_date": "2000-01-01"}, 400),
        ({"currency": "US"}, 400),
        ({"currency": "EUR"}, 400),
        ({"currency": "U$D"}, 400),
        ({"tags": "food"}, 400),
        ({"tags": [1, 2]}, 400),
        ({"tags": ["x" * 51]}, 400),
        ({"tags": [f"t{i}" for i in range(21)]}, 400),
        ({"status": "done"}, 400),
        ({"description": "  "}, 400),
        ({"location": "Paris"}, 400),
        ({"unknown_field": 1}, 400),
        ({"account_id": "00000000-0000-0000-0000-000000000001"}, 404),
        ({"category_id": "00000000-0000-0000-0000-000000000001"}, 404),
        ({"family_id": "00000000-0000-0000-0000-000000000001"}, 404),
    ],
)
def test_bad_input_writes_nothing(api, owner_and_account, conn, change, status):
    user, acc = owner_and_account
    r = api.post("/transactions", user, {**_body(acc), **change})
    assert r.status == status, r.body
    assert count(conn, "transactions") == 0 and count(conn, "audit_logs") == 0 and count(conn, "outbox") == 0
    assert balance(conn, acc) == "100.00"


def test_another_users_account_category_or_family_is_not_found(api, owner_and_account, make_user, conn):
    user, acc = owner_and_account
    other = make_user()
    other_acc = make_account(conn, other["id"])
    other_cat = api.post("/categories", other, {"name": "Theirs"}).body["id"]
    from tests.factories import make_family

    other_family = make_family(conn, other["id"])
    for change in ({"account_id": str(other_acc)}, {"category_id": other_cat}, {"family_id": str(other_family)}):
        r = api.post("/transactions", user, {**_body(acc), **change})
        assert r.status == 404 and r.body["error"]["code"] == "not_found", change
    t = make_transaction(conn, user["id"], acc, "-1.00")
    assert api.patch(f"/transactions/{t}", user, {"category_id": other_cat}).status == 404
    assert api.patch(f"/transactions/{t}", user, {"account_id": str(other_acc)}).status == 404
    assert count(conn, "transactions") == 1


def test_family_transactions_take_the_accounts_family(api, household, conn):
    h = household
    joint = make_account(conn, h.owner["id"], family_id=h.family_id)
    r = api.post("/transactions", h.member, _body(joint))
    assert r.status == 201 and r.body["family_id"] == str(h.family_id) and r.body["user_id"] == str(h.member["id"])
    personal_cat = api.post("/categories", h.member, {"name": "Mine"}).body["id"]
    assert api.post("/transactions", h.member, _body(joint, category_id=personal_cat)).status == 400
    assert api.post("/transactions", h.viewer, _body(joint)).status == 403
    assert api.post("/transactions", h.stranger, _body(joint)).status == 404


def test_status_transitions_and_the_balance(api, owner_and_account, conn):
    user, acc = owner_and_account
    t = api.post("/transactions", user, _body(acc, amount="-10.00", status="pending")).body
    assert balance(conn, acc) == "90.00"
    assert api.patch(f"/transactions/{t['id']}", user, {"status": "posted"}).status == 200
    assert api.patch(f"/transactions/{t['id']}", user, {"status": "pending"}).status == 200  # any direction
    assert api.patch(f"/transactions/{t['id']}", user, {"status": "disputed"}).status == 200
    assert api.patch(f"/transactions/{t['id']}", user, {"status": "cancelled"}).body["status"] == "cancelled"
    assert balance(conn, acc) == "100.00"
    assert api.patch(f"/transactions/{t['id']}", user, {"status": "posted"}).body["status"] == "posted"
    assert balance(conn, acc) == "90.00"
    assert api.patch(f"/transactions/{t['id']}", user, {"amount": None}).status == 400


def test_moving_between_accounts_and_months_keeps_balances(api, owner_and_account, conn):
    user, acc = owner_and_account
    other = make_account(conn, user["id"], name="Other", opening_balance="0.00")
    t = api.post("/transactions", user, _body(acc, amount="-30.00")).body
    moved_day = TODAY.replace(day=1) - timedelta(days=40)

    r = api.patch(
        f"/transactions/{t['id']}",
        user,
        {"account_id": str(other), "transaction_date": str(moved_day), "amount": "-35.50"},
    )

    assert r.status == 200 and r.body["transaction_date"] == str(moved_day) and r.body["account_id"] == str(other)
    assert balance(conn, acc) == "100.00" and balance(conn, other) == "-35.50"
    assert api.get(f"/transactions/{t['id']}", user).body["amount"] == "-35.50"
    assert count(conn, "transactions") == 1
    assert api.delete(f"/transactions/{t['id']}", user).status == 204
    assert balance(conn, other) == "0.00" and api.get(f"/transactions/{t['id']}", user).status == 404
    assert count(conn, "outbox", "aggregate_id = %s AND operation = 'delete'", (t["id"],)) == 1
    actions = [r["action"] for r in conn.execute("SELECT action FROM audit_logs ORDER BY created_at")]
    assert actions == ["transaction.create", "transaction.update", "transaction.delete"]


def test_categorization_source_rules(api, owner_and_account, conn):
    user, acc = owner_and_account
    groceries = default_category(conn, "Groceries", "Food & Dining")
    restaurants = default_category(conn, "Restaurants", "Food & Dining")
    ml = make_transaction(conn, user["id"], acc, "-5.00", category_id=groceries)
    conn.execute(
        "UPDATE transactions SET categorization_source = 'ml', categorization_confidence = 0.73 WHERE id = %s", (ml,)
    )
    manual = api.post("/transactions", user, _body(acc, category_id=str(groceries))).body
    assert manual["categorization_source"] == "manual"

    corrected = api.patch(f"/transactions/{ml}", user, {"category_id": str(restaurants)}).body
    assert corrected["categorization_source"] == "user_correction" and corrected["categorization_confidence"] is None
    set_manually = api.patch(f"/transactions/{manual['id']}", user, {"category_id": str(restaurants)}).body
    assert set_manually["categorization_source"] == "manual"
    assert api.patch(f"/transactions/{ml}", user, {"notes": "n"}).body["categorization_source"] == "user_correction"


def test_a_transaction_created_without_a_category_is_categorized_automatically(api, owner_and_account, conn):
    user, account = owner_and_account
    coffee = default_category(conn, "Coffee Shops", parent="Food & Dining")

    auto = api.post(
        "/transactions",
        user,
        {
            "account_id": str(account),
            "amount": "-4.20",
            "description": "STARBUCKS #1234",
            "transaction_date": "2026-11-20",
        },
    )
    unknown = api.post(
        "/transactions",
        user,
        {
            "account_id": str(account),
            "amount": "-9.99",
            "description": "zzqx unknown shop",
            "transaction_date": "2026-11-20",
        },
    )

    assert auto.status == 201
    assert auto.body["category_id"] == str(coffee)
    assert auto.body["categorization_source"] == "ml"
    assert 0 <= float(auto.body["categorization_confidence"]) <= 1
    assert unknown.body["category_id"] is None and unknown.body["categorization_source"] == "manual"
