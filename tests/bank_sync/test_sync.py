"""Sync exactly once: pages, modified, removed, pending -> posted, crashes, restarts."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.bank_sync.conftest import account_state, assert_balance_is_plaids, link, sync
from tests.factories import default_category


def _history(fake, item, n, *, start=None):
    start = start or date.today() - timedelta(days=40)
    ids = []
    for k in range(n):
        ids.append(fake.add(item, amount=f"{10 + k}.25", name=f"Shop {k}", day=start + timedelta(days=k % 30),
                            merchant=f"Merchant {k}"))  # fmt: skip
    return ids


def _rows(conn, account_id):
    return conn.execute(
        """SELECT id, plaid_transaction_id, amount, status, description, merchant, location, category_id,
                  categorization_source, categorization_confidence, currency, transaction_date, posted_date
             FROM transactions WHERE account_id = %s ORDER BY plaid_transaction_id""",
        (account_id,),
    ).fetchall()


def test_first_sync_over_several_pages(client, conn, make_user, fake_plaid):
    user = make_user()
    token = fake_plaid.create_item()
    item = fake_plaid.item_of(token)
    _history(fake_plaid, item, 21)
    fake_plaid.add(item, amount="4.50", name="STARBUCKS 123", merchant="Starbucks",
                   category=("FOOD_AND_DRINK", "FOOD_AND_DRINK_COFFEE", "VERY_HIGH"),
                   location={"city": "Seattle", "region": "WA", "lat": 47.61, "lon": -122.33})  # fmt: skip
    fake_plaid.add(item, amount="-2500.00", name="ACME PAYROLL", category=("INCOME", "INCOME_WAGES", "HIGH"))
    response = client.http.post("/bank-connections", body=f'{{"public_token": "{token}"}}', headers=user["headers"])
    assert response.status_code == 201, response.body
    connection = response.json_body
    assert connection["status"] == "active" and connection["institution"]["name"] == "First Platypus Bank"
    [account] = connection["accounts"]
    assert account["type"] == "checking" and account["account_number_masked"].startswith("****")

    report = sync(connection["id"])

    assert (report.status, report.pages, report.added, report.updated, report.deleted) == ("completed", 5, 23, 0, 0)
    rows = _rows(conn, account["id"])
    assert len(rows) == 23 and len({r["plaid_transaction_id"] for r in rows}) == 23
    coffee = next(r for r in rows if r["merchant"] == "Starbucks")
    assert coffee["amount"] == Decimal("-4.50") and coffee["status"] == "posted"
    assert coffee["location"]["lat"] == 47.61 and coffee["location"]["city"] == "Seattle"
    assert coffee["category_id"] == default_category(conn, "Coffee Shops", "Food & Dining")
    assert (coffee["categorization_source"], coffee["categorization_confidence"]) == ("plaid", Decimal("0.95"))
    salary = next(r for r in rows if r["description"] == "ACME PAYROLL")
    assert salary["amount"] == Decimal("2500.00") and salary["categorization_source"] == "plaid"
    assert_balance_is_plaids(conn, fake_plaid, item, account["id"])
    log = conn.execute("SELECT * FROM data_sync_logs WHERE sync_type = 'plaid'").fetchone()
    assert (log["status"], log["transactions_added"], str(log["account_id"])) == ("completed", 23, account["id"])
    assert account_state(conn, account["id"])["last_sync_at"] is not None
    got = client.http.get(f"/bank-connections/{connection['id']}", headers=user["headers"]).json_body
    assert got["last_sync_at"] is not None and got["accounts"][0]["balance"] == str(
        account_state(conn, account["id"])["balance"]
    )
