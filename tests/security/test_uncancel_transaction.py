"""Issue 16, item 10: a cancelled transaction could not be set back to pending or posted
(409) — a user undoing a mistake. Status now changes in any direction and the balance
follows."""

import json

import pytest

from tests.factories import make_account


def _balance(conn, account_id):
    return str(conn.execute("SELECT balance FROM accounts WHERE id = %s", (account_id,)).fetchone()["balance"])


def _patch(client, user, transaction_id, **changes):
    return client.http.patch(f"/transactions/{transaction_id}", headers=user["headers"], body=json.dumps(changes))


@pytest.mark.parametrize("back_to", ["pending", "posted"])
def test_a_cancelled_transaction_set_back_counts_in_the_balance_again(client, conn, make_user, back_to):
    user = make_user()
    account = make_account(conn, user["id"], opening_balance="100.00")
    body = {
        "account_id": str(account),
        "amount": "-30.00",
        "description": "Groceries",
        "transaction_date": "2026-11-20",
    }
    created = json.loads(client.http.post("/transactions", headers=user["headers"], body=json.dumps(body)).body)
    assert _patch(client, user, created["id"], status="cancelled").status_code == 200
    assert _balance(conn, account) == "100.00"

    r = _patch(client, user, created["id"], status=back_to)

    assert r.status_code == 200 and json.loads(r.body)["status"] == back_to
    assert _balance(conn, account) == "70.00"
    assert json.loads(client.http.get(f"/accounts/{account}", headers=user["headers"]).body)["balance"] == "70.00"


def test_setting_back_is_still_refused_where_it_would_overdraw_a_savings_account(client, conn, make_user):
    user = make_user()
    savings = make_account(conn, user["id"], type="savings", opening_balance="50.00")
    body = {"account_id": str(savings), "amount": "-40.00", "description": "Out", "transaction_date": "2026-11-20"}
    first = json.loads(client.http.post("/transactions", headers=user["headers"], body=json.dumps(body)).body)
    assert _patch(client, user, first["id"], status="cancelled").status_code == 200
    second = client.http.post("/transactions", headers=user["headers"], body=json.dumps(body))
    assert second.status_code == 201 and _balance(conn, savings) == "10.00"

    r = _patch(client, user, first["id"], status="posted")

    assert r.status_code == 409 and json.loads(r.body)["error"]["code"] == "conflict"
    assert _balance(conn, savings) == "10.00"
