"""API.md "Analytics": spending, cash flow, net worth — exact to the cent, scoped, in the
caller's timezone, cached under generations."""

import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from chalicelib.core import caching
from tests import factories


def get(client, user, path, **params):
    response = client.http.get(f"{path}?{urlencode(params)}", headers=user["headers"])
    return response.status_code, json.loads(response.body)


@pytest.fixture
def clock(monkeypatch):
    def set_now(moment: datetime):
        monkeypatch.setattr("chalicelib.core.dates.utc_now", lambda: moment)

    return set_now


RANGE = {"from": "2025-01-01", "to": "2026-12-31"}


def _generated(conn, user, accounts, n=600, seed=7):
    rng = random.Random(seed)
    leaves = [
        factories.default_category(conn, name, parent)
        for name, parent in (
            ("Groceries", "Food & Dining"),
            ("Restaurants", "Food & Dining"),
            ("Fuel", "Transportation"),
            ("Salary", "Income"),
            ("Rent", "Housing"),
        )
    ]
    tops = [factories.default_category(conn, n) for n in ("Shopping", "Income", "Transfers", "Other")]
    for _ in range(n):
        cents = rng.randint(1, 500_000) * rng.choice((-1, -1, -1, 1))
        factories.make_transaction(
            conn,
            user["id"],
            rng.choice(accounts),
            Decimal(cents) / 100,
            day=date(2025, 1, 1) + timedelta(days=rng.randint(0, 700)),
            category_id=rng.choice([*leaves, *tops, None]),
            merchant=rng.choice(["Tesco", "Shell", None, "Amazon"]),
            status=rng.choice(["posted", "posted", "pending", "cancelled"]),
        )


_REFERENCE = """
WITH RECURSIVE income AS (
    SELECT id FROM categories WHERE is_default AND parent_id IS NULL AND name = 'Income'
    UNION ALL SELECT c.id FROM categories c JOIN income i ON c.parent_id = i.id
)
SELECT category_id::text AS key, -sum(amount) AS amount, count(*) AS count
  FROM transactions
 WHERE user_id = %s AND status <> 'cancelled' AND transaction_date BETWEEN '2025-01-01' AND '2026-12-31'
   AND NOT (amount > 0 AND (category_id IS NULL OR category_id IN (SELECT id FROM income)))
 GROUP BY category_id
"""


def test_spending_by_category_equals_a_straight_sql_sum_to_the_cent(client, conn, make_user):
    user = make_user()
    accounts = [factories.make_account(conn, user["id"], name=f"A{i}") for i in range(3)]
    _generated(conn, user, accounts)

    status, body = get(client, user, "/analytics/spending", group_by="category", **RANGE)

    assert status == 200
    expected = {r["key"]: (f"{r['amount']:.2f}", r["count"]) for r in conn.execute(_REFERENCE, (user["id"],))}
    assert {i["key"]: (i["amount"], i["count"]) for i in body["items"]} == expected
    assert Decimal(body["total"]) == sum(Decimal(a) for a, _ in expected.values())
    amounts = [Decimal(i["amount"]) for i in body["items"]]
    assert amounts == sorted(amounts, reverse=True)
    assert (body["from"], body["to"], body["group_by"]) == ("2025-01-01", "2026-12-31", "category")


def test_every_grouping_adds_up_to_the_same_total(client, conn, make_user):
    user = make_user()
    accounts = [factories.make_account(conn, user["id"], name=f"A{i}") for i in range(2)]
    _generated(conn, user, accounts, n=300, seed=11)

    totals = set()
    for group_by in ("category", "top_category", "merchant", "month", "account"):
        status, body = get(client, user, "/analytics/spending", group_by=group_by, **RANGE)
        assert status == 200
        totals.add(body["total"])
        assert sum(Decimal(i["amount"]) for i in body["items"]) == Decimal(body["total"])
    assert len(totals) == 1
    months = get(client, user, "/analytics/spending", group_by="month", **RANGE)[1]["items"]
    assert [m["key"] for m in months] == sorted(m["key"] for m in months)


def test_refunds_net_out_income_is_not_spending_and_cancelled_is_ignored(client, conn, make_user):
    user = make_user()
    account = factories.make_account(conn, user["id"])
    groceries = factories.default_category(conn, "Groceries", "Food & Dining")
    salary = factories.default_category(conn, "Salary", "Income")
    day = date(2026, 5, 10)
    factories.make_transaction(conn, user["id"], account, "-100.10", category_id=groceries, day=day)
    factories.make_transaction(conn, user["id"], account, "30.05", category_id=groceries, day=day)  # refund
    factories.make_transaction(conn, user["id"], account, "-999.99", category_id=groceries, day=day, status="cancelled")
    factories.make_transaction(conn, user["id"], account, "2500.00", category_id=salary, day=day)
    factories.make_transaction(conn, user["id"], account, "12.00", day=day)  # no category: income

    body = get(client, user, "/analytics/spending", group_by="top_category", **RANGE)[1]

    food = factories.default_category(conn, "Food & Dining")
    assert body["items"] == [{"key": str(food), "label": "Food & Dining", "amount": "70.05", "count": 2}]
    flow = get(client, user, "/analytics/cashflow", interval="month", **RANGE)[1]["items"]
    assert flow == [{"period_start": "2026-05-01", "income": "2512.00", "expenses": "70.05", "net": "2441.95"}]


def test_cashflow_excludes_transfers_and_weeks_start_on_monday(client, conn, make_user):
    user = make_user()
    checking = factories.make_account(conn, user["id"])
    savings = factories.make_account(conn, user["id"], name="Savings", type="savings")
    transfers = factories.default_category(conn, "Transfers")
    fuel = factories.default_category(conn, "Fuel", "Transportation")
    factories.make_transaction(conn, user["id"], checking, "-500.00", category_id=transfers, day=date(2026, 6, 3))
    factories.make_transaction(conn, user["id"], savings, "500.00", category_id=transfers, day=date(2026, 6, 3))
    factories.make_transaction(conn, user["id"], checking, "-40.00", category_id=fuel, day=date(2026, 6, 7))  # Sunday
    factories.make_transaction(conn, user["id"], checking, "-10.00", category_id=fuel, day=date(2026, 6, 8))  # Monday

    weeks = get(client, user, "/analytics/cashflow", interval="week", **RANGE)[1]["items"]

    assert weeks == [
        {"period_start": "2026-06-01", "income": "0.00", "expenses": "40.00", "net": "-40.00"},
        {"period_start": "2026-06-08", "income": "0.00", "expenses": "10.00", "net": "-10.00"},
    ]


def test_the_default_range_ends_today_in_the_callers_timezone(client, conn, make_user, clock):
    auckland = make_user(timezone="Pacific/Auckland")
    utc_user = make_user(timezone="UTC")
    clock(datetime(2026, 3, 31, 12, 0, tzinfo=UTC))  # already 1 April 01:00 in Auckland
    for user in (auckland, utc_user):
        account = factories.make_account(conn, user["id"])
        factories.make_transaction(conn, user["id"], account, "-7.00", day=date(2026, 4, 1))
        factories.make_transaction(conn, user["id"], account, "-3.00", day=date(2025, 4, 30))
        factories.make_transaction(conn, user["id"], account, "-2.00", day=date(2025, 5, 1))

    nz = get(client, auckland, "/analytics/spending", group_by="month")[1]
    utc = get(client, utc_user, "/analytics/spending", group_by="month")[1]

    assert (nz["from"], nz["to"], nz["total"]) == ("2025-05-01", "2026-04-01", "9.00")
    assert (utc["from"], utc["to"], utc["total"]) == ("2025-04-01", "2026-03-31", "5.00")


def test_net_worth_from_month_end_balances_with_today_last(client, conn, make_user, clock):
    user = make_user()
    clock(datetime(2026, 3, 15, 9, 0, tzinfo=UTC))
    checking = factories.make_account(conn, user["id"], opening_balance="1000.00")
    card = factories.make_account(conn, user["id"], name="Card", type="credit_card")
    factories.make_transaction(conn, user["id"], checking, "-200.00", day=date(2026, 1, 10))
    factories.make_transaction(conn, user["id"], card, "-300.50", day=date(2026, 2, 20))
    factories.make_transaction(conn, user["id"], card, "-99.00", day=date(2026, 2, 21), status="cancelled")
    factories.make_transaction(conn, user["id"], checking, "50.00", day=date(2026, 3, 14))

    body = get(client, user, "/analytics/net-worth", interval="month", **{"from": "2026-01-01"})[1]

    assert body["items"] == [
        {"date": "2026-01-31", "assets": "800.00", "liabilities": "0.00", "net_worth": "800.00"},
        {"date": "2026-02-28", "assets": "800.00", "liabilities": "300.50", "net_worth": "499.50"},
        {"date": "2026-03-15", "assets": "850.00", "liabilities": "300.50", "net_worth": "549.50"},
    ]


def test_unknown_group_by_or_interval_lists_the_allowed_values(client, make_user, conn):
    user = make_user()
    for path, params in (
        ("/analytics/spending", {"group_by": "day"}),
        ("/analytics/cashflow", {"interval": "year"}),
        ("/analytics/net-worth", {"interval": "week"}),
    ):
        status, body = get(client, user, path, **params)
        assert status == 400 and body["error"]["code"] == "validation_error"
        assert "must be one of" in json.dumps(body["error"]["details"])
    status, body = get(client, user, "/analytics/spending", group_by="bogus")
    assert "category, top_category, merchant, month, account" in body["error"]["details"][0]["message"]
    assert get(client, user, "/analytics/spending", **{"from": "2026-05-01", "to": "2026-04-01"})[0] == 400


def test_scoping_stranger_and_family_viewer(client, conn, make_user):
    owner, viewer, stranger = make_user(), make_user(), make_user()
    family = factories.make_family(conn, owner["id"], members={viewer["id"]: "viewer"})
    joint = factories.make_account(conn, owner["id"], family_id=family)
    mine = factories.make_account(conn, owner["id"])
    factories.make_transaction(conn, owner["id"], joint, "-20.00", day=date(2026, 6, 1))
    factories.make_transaction(conn, owner["id"], mine, "-5.00", day=date(2026, 6, 1))

    assert get(client, owner, "/analytics/spending", **RANGE)[1]["total"] == "25.00"
    assert get(client, viewer, "/analytics/spending", **RANGE)[1]["total"] == "20.00"
    assert get(client, stranger, "/analytics/spending", **RANGE)[1]["items"] == []
    assert get(client, stranger, "/analytics/spending", account_id=str(joint), **RANGE)[0] == 404
    assert get(client, stranger, "/analytics/cashflow", family_id=str(family), **RANGE)[0] == 404
    assert get(client, viewer, "/analytics/net-worth", account_id=str(mine))[0] == 404


def test_answers_are_cached_until_the_generation_moves(client, conn, make_user, redis_clean):
    user = make_user()
    account = factories.make_account(conn, user["id"])
    factories.make_transaction(conn, user["id"], account, "-10.00", day=date(2026, 6, 1))
    assert get(client, user, "/analytics/spending", **RANGE)[1]["total"] == "10.00"

    factories.make_transaction(conn, user["id"], account, "-5.00", day=date(2026, 6, 2))  # no invalidation
    assert get(client, user, "/analytics/spending", **RANGE)[1]["total"] == "10.00"
    keys = list(redis_clean.scan_iter(match=f"*cache:api:analytics:{user['id']}:*"))
    assert len(keys) == 1

    caching.invalidate_users([user["id"]])
    assert get(client, user, "/analytics/spending", **RANGE)[1]["total"] == "15.00"
