"""Linking, reading, removing; family scoping; what happens without settings; bad input."""

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from tests.bank_sync.conftest import assert_balance_is_plaids, link, post, sync
from tests.factories import make_family


def test_link_token_carries_our_settings_and_the_callers_language(client, conn, make_user, fake_plaid):
    user = make_user()
    conn.execute("UPDATE users SET locale = 'fr-FR' WHERE id = %s", (user["id"],))
    response = post(client, "/bank-connections/link-token", None, user["headers"])
    assert response.status_code == 200
    assert response.json_body["link_token"].startswith("link-sandbox-") and response.json_body["expiration"]
    sent = fake_plaid.link_tokens[-1]
    assert (sent["language"], sent["products"], sent["country_codes"]) == ("fr", ["transactions"], ["US"])
    assert sent["webhook"] == "https://api.example.test/webhooks/plaid" and sent["user"]["client_user_id"] == str(
        user["id"]
    )


def test_linking_maps_accounts_and_seals_the_access_token(client, conn, make_user, fake_plaid):
    user = make_user()
    connection, item = link(
        client,
        fake_plaid,
        user,
        accounts=[
            {"name": "Everyday", "type": "depository", "subtype": "checking", "mask": "0000", "base": "1200.50"},
            {"name": "Rainy Day", "type": "depository", "subtype": "savings", "mask": "1111", "base": "5000"},
            {"name": "Card", "type": "credit", "subtype": "credit card", "mask": "3333", "base": "410.10"},
            {"name": "Car", "type": "loan", "subtype": "auto", "mask": "4444", "base": "9000"},
            {"name": "Brokerage", "type": "investment", "subtype": "brokerage", "mask": "5555", "base": "320"},
        ],
    )
    by_name = {a["name"]: a for a in connection["accounts"]}
    assert {n: a["type"] for n, a in by_name.items()} == {
        "Everyday Account": "checking",
        "Rainy Day Account": "savings",
        "Card Account": "credit_card",
        "Car Account": "loan",
        "Brokerage Account": "investment",
    }
    assert by_name["Card Account"]["balance"] == "-410.10" and by_name["Everyday Account"]["balance"] == "1200.50"
    assert by_name["Everyday Account"]["account_number_masked"] == "****0000"
    assert "access" not in json.dumps(connection)
    stored = conn.execute("SELECT access_token_enc FROM bank_connections").fetchone()["access_token_enc"]
    assert item.access_token.encode() not in bytes(stored)
    from chalicelib.bank_sync.providers import open_token

    assert open_token(stored) == item.access_token
    fake_plaid.add(item, 2, amount="25.00", name="Card purchase")
    sync(connection["id"])
    assert_balance_is_plaids(conn, fake_plaid, item, by_name["Card Account"]["id"], index=2)
    assert conn.execute("SELECT balance FROM accounts WHERE id = %s", (by_name["Card Account"]["id"],)).fetchone()[
        "balance"
    ] == Decimal("-435.10")


def test_remove_calls_plaid_wipes_the_token_and_keeps_the_history(client, conn, make_user, fake_plaid):
    user = make_user()
    connection, item = link(client, fake_plaid, user)
    fake_plaid.add(item, amount="9.99", name="Kept")
    sync(connection["id"])

    response = client.http.delete(f"/bank-connections/{connection['id']}", headers=user["headers"])

    assert response.status_code == 204 and item.removed and "/item/remove" in fake_plaid.calls
    row = conn.execute("SELECT status, access_token_enc, removed_at FROM bank_connections").fetchone()
    assert (row["status"], row["access_token_enc"]) == ("revoked", None) and row["removed_at"] is not None
    assert conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"] == 1
    assert conn.execute("SELECT is_active FROM accounts").fetchone()["is_active"]
    got = client.http.get(f"/bank-connections/{connection['id']}", headers=user["headers"]).json_body
    assert got["status"] == "revoked" and len(got["accounts"]) == 1
    assert sync(connection["id"]).status == "skipped"
    again = post(client, f"/bank-connections/{connection['id']}/sync", None, user["headers"])
    assert again.status_code == 409


def test_family_connections_are_scoped_like_family_accounts(client, conn, make_user, fake_plaid):
    owner, member, stranger = make_user(), make_user(), make_user()
    family = make_family(conn, owner["id"], members={member["id"]: "member"})
    connection, item = link(client, fake_plaid, owner, family_id=family)
    assert {a["family_id"] for a in connection["accounts"]} == {str(family)}
    fake_plaid.add(item, amount="15.00", name="Family groceries")
    sync(connection["id"])
    assert conn.execute("SELECT family_id FROM transactions").fetchone()["family_id"] == family

    listed = client.http.get("/bank-connections", headers=member["headers"]).json_body
    assert [c["id"] for c in listed["items"]] == [connection["id"]]
    assert client.http.get("/bank-connections", headers=stranger["headers"]).json_body["items"] == []
    path = f"/bank-connections/{connection['id']}"
    assert client.http.get(path, headers=stranger["headers"]).status_code == 404
    assert client.http.delete(path, headers=stranger["headers"]).status_code == 404
    assert post(client, f"{path}/sync", None, stranger["headers"]).status_code == 404
    assert post(client, f"{path}/update-link-token", None, stranger["headers"]).status_code == 404
    assert client.http.delete(path, headers=member["headers"]).status_code == 403  # admins manage
    assert post(client, f"{path}/sync", None, member["headers"]).status_code == 202
    token = fake_plaid.create_item()
    refused = post(client, "/bank-connections", {"public_token": token, "family_id": str(family)}, stranger["headers"])
    assert refused.status_code == 404 and fake_plaid.public_tokens[token] is not None  # never exchanged
    assert (
        client.http.get(f"/bank-connections/{'0' * 8}-0000-0000-0000-{'0' * 12}", headers=owner["headers"]).status_code
        == 404
    )


def test_without_settings_every_route_answers_503(client, make_user, unconfigured):
    user = make_user()
    some = "00000000-0000-0000-0000-000000000001"
    calls = [
        ("post", "/bank-connections/link-token"),
        ("post", "/bank-connections"),
        ("get", "/bank-connections"),
        ("get", f"/bank-connections/{some}"),
        ("delete", f"/bank-connections/{some}"),
        ("post", f"/bank-connections/{some}/sync"),
        ("post", f"/bank-connections/{some}/update-link-token"),
    ]
    for method, path in calls:
        body = {"public_token": "public-x"} if path == "/bank-connections" and method == "post" else None
        kwargs = {"body": json.dumps(body or {})} if method == "post" else {}
        response = getattr(client.http, method)(path, headers=user["headers"], **kwargs)
        assert response.status_code == 503, (method, path, response.body)
        assert response.json_body["error"]["code"] == "bank_sync_not_configured"
    webhook = client.http.post("/webhooks/plaid", body=b"{}", headers={"Content-Type": "application/json"})
    assert webhook.json_body["error"]["code"] == "bank_sync_not_configured"
    from chalicelib.jobs import run_job

    assert run_job("bank-sync")["due"] == 0


def test_reused_and_unknown_public_tokens_are_clear_errors(client, conn, make_user, fake_plaid):
    user = make_user()
    token = fake_plaid.create_item()
    assert post(client, "/bank-connections", {"public_token": token}, user["headers"]).status_code == 201
    for bad in (token, "public-sandbox-unknown"):
        response = post(client, "/bank-connections", {"public_token": bad}, user["headers"])
        assert response.status_code == 400
        assert response.json_body["error"]["details"][0]["field"] == "public_token"
    for bad in ("", "has spaces in it", None):
        assert post(client, "/bank-connections", {"public_token": bad}, user["headers"]).status_code == 400
    assert conn.execute("SELECT count(*) AS n FROM bank_connections").fetchone()["n"] == 1


@pytest.mark.parametrize(
    ("status", "error_type", "error_code", "ours", "code"),
    [
        (400, "INVALID_REQUEST", "INVALID_FIELD", 502, "bank_provider_error"),
        (500, "API_ERROR", "INTERNAL_SERVER_ERROR", 503, "bank_provider_unavailable"),
        (429, "RATE_LIMIT_EXCEEDED", "RATE_LIMIT_EXCEEDED", 429, "rate_limited"),
    ],
)
def test_plaid_errors_become_clear_errors_without_plaids_text(
    client, make_user, fake_plaid, status, error_type, error_code, ours, code
):
    user = make_user()
    fake_plaid.fail("/link/token/create", status=status, error_type=error_type, error_code=error_code)
    response = post(client, "/bank-connections/link-token", None, user["headers"])
    assert response.status_code == ours and response.json_body["error"]["code"] == code
    assert "secret internal detail" not in response.body.decode()


def test_a_failed_account_lookup_removes_the_orphaned_item(client, conn, make_user, fake_plaid):
    user = make_user()
    token = fake_plaid.create_item()
    fake_plaid.fail("/accounts/get", status=500)
    assert post(client, "/bank-connections", {"public_token": token}, user["headers"]).status_code == 503
    assert fake_plaid.item_of(token).removed
    assert conn.execute("SELECT count(*) AS n FROM bank_connections").fetchone()["n"] == 0


def test_odd_pages_unknown_accounts_rounding_and_foreign_currency(client, conn, make_user, fake_plaid):
    user = make_user()
    connection, item = link(client, fake_plaid, user)
    fake_plaid.add(item, amount="10.125", name="Half even down")
    fake_plaid.add(item, amount="10.135", name="Half even up")
    fake_plaid.add(item, amount="20.00", name="Elsewhere", account_id="acc-not-ours")
    fake_plaid.add(item, amount="30.00", name="Abroad", currency="EUR")

    report = sync(connection["id"])

    assert (report.added, report.ignored) == (3, 1)
    rows = {r["description"]: r for r in conn.execute("SELECT description, amount, currency FROM transactions")}
    assert rows["Half even down"]["amount"] == Decimal("-10.12") and rows["Half even up"]["amount"] == Decimal("-10.14")
    assert rows["Abroad"]["currency"] == "EUR" and rows["Abroad"]["amount"] == Decimal("-30.00")
    log = conn.execute("SELECT metadata, errors FROM data_sync_logs").fetchone()
    assert (log["metadata"]["ignored_unknown_account"], log["metadata"]["rounded_amounts"]) == (1, 2)
    assert log["metadata"]["currency_mismatches"] == 1 and "EUR" in log["errors"][0]["message"]


def test_the_schedule_syncs_silent_items_and_backs_off_rate_limits(client, conn, make_user, fake_plaid):
    from chalicelib.cli import main
    from chalicelib.jobs import run_job

    user = make_user()
    _connection, item = link(client, fake_plaid, user)
    fake_plaid.add(item, amount="1.00", name="Quiet day")
    report = run_job("bank-sync")
    assert (report["due"], report["completed"], report["added"]) == (1, 1, 1)
    assert run_job("bank-sync")["due"] == 0  # just synced: not silent

    conn.execute("UPDATE bank_connections SET last_sync_at = now() - interval '7 hours'")
    fake_plaid.fail(
        "/transactions/sync", status=429, error_type="RATE_LIMIT_EXCEEDED", error_code="RATE_LIMIT_EXCEEDED"
    )
    assert run_job("bank-sync")["failed"] == 1
    row = conn.execute(
        "SELECT next_sync_after > now() + interval '10 minutes' AS later, sync_failures FROM bank_connections"
    ).fetchone()
    assert row["later"] and row["sync_failures"] == 1
    assert run_job("bank-sync")["due"] == 0  # backing off
    conn.execute("UPDATE bank_connections SET next_sync_after = now() - interval '1 second'")
    assert main(["run", "bank-sync"]) == 0
    assert conn.execute("SELECT sync_failures FROM bank_connections").fetchone()["sync_failures"] == 0


def test_import_app_does_not_load_plaid():
    code = "import sys, app; print(any(m == 'plaid' or m.startswith('plaid.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_retried_link_with_the_same_idempotency_key_exchanges_once(client, conn, make_user, fake_plaid):
    user = make_user()
    token = fake_plaid.create_item()
    headers = {**user["headers"], "Idempotency-Key": "link-once-1"}
    first = post(client, "/bank-connections", {"public_token": token}, headers)
    again = post(client, "/bank-connections", {"public_token": token}, headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json_body == first.json_body
    assert fake_plaid.calls.count("/item/public_token/exchange") == 1
    assert conn.execute("SELECT count(*) AS n FROM accounts").fetchone()["n"] == 1


def test_linking_again_continues_only_the_same_owners_account(conn, make_user):
    # find_relinkable_account takes its owner condition from access.owned_by: a stranger,
    # or the same user linking for a family, never picks up someone else's history.
    from chalicelib.bank_sync import repo as bank_repo
    from tests.factories import make_account, make_family

    me, stranger = make_user(), make_user()
    family = make_family(conn, me["id"])
    personal = make_account(conn, me["id"], name="Old personal")
    shared = make_account(conn, me["id"], name="Old family", family_id=family)
    conn.execute("UPDATE accounts SET plaid_account_id = 'plaid-acc-1' WHERE id = ANY(%s)", ([personal, shared],))

    def found(user_id, family_id):
        row = bank_repo.find_relinkable_account(
            conn, plaid_account_id="plaid-acc-1", user_id=user_id, family_id=family_id
        )
        return row and row["id"]

    assert found(me["id"], None) == personal
    assert found(me["id"], family) == shared
    assert found(stranger["id"], None) is None
    assert found(stranger["id"], family) is None
