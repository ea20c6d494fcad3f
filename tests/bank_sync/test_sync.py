"""Sync exactly once: pages, modified, removed, pending -> posted, crashes, restarts."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from chalicelib.search import postings
from tests.bank_sync.conftest import account_state, assert_balance_is_plaids, sync
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
    listed = client.http.get("/imports?sync_type=plaid", headers=user["headers"]).json_body["items"]
    assert [(i["sync_type"], i["status"], i["transactions_added"]) for i in listed] == [("plaid", "completed", 23)]
    assert client.http.get("/imports", headers=user["headers"]).json_body["items"] == []
    assert account_state(conn, account["id"])["last_sync_at"] is not None
    got = client.http.get(f"/bank-connections/{connection['id']}", headers=user["headers"]).json_body
    assert got["last_sync_at"] is not None and got["accounts"][0]["balance"] == str(
        account_state(conn, account["id"])["balance"]
    )


def _linked_with_history(client, conn, make_user, fake, n=12):
    user = make_user()
    token = fake.create_item()
    item = fake.item_of(token)
    ids = _history(fake, item, n)
    response = client.http.post("/bank-connections", body=f'{{"public_token": "{token}"}}', headers=user["headers"])
    connection = response.json_body
    return user, connection, connection["accounts"][0]["id"], item, ids


def test_modified_removed_and_pending_to_posted_keep_the_balance_plaids(client, conn, make_user, fake_plaid):
    _user, connection, account_id, item, ids = _linked_with_history(client, conn, make_user, fake_plaid)
    assert sync(connection["id"]).status == "completed"
    assert_balance_is_plaids(conn, fake_plaid, item, account_id)
    anchor = account_state(conn, account_id)["opening_balance"]

    fake_plaid.modify(item, ids[0], amount="99.99", name="Shop 0 corrected")
    report = sync(connection["id"])
    assert (report.added, report.updated, report.deleted) == (0, 1, 0)
    row = conn.execute(
        "SELECT amount, description FROM transactions WHERE plaid_transaction_id = %s", (ids[0],)
    ).fetchone()
    assert (row["amount"], row["description"]) == (Decimal("-99.99"), "Shop 0 corrected")
    assert_balance_is_plaids(conn, fake_plaid, item, account_id)

    fake_plaid.remove(item, ids[1])
    assert sync(connection["id"]).deleted == 1
    assert (
        conn.execute("SELECT count(*) AS n FROM transactions WHERE plaid_transaction_id = %s", (ids[1],)).fetchone()[
            "n"
        ]
        == 0
    )
    assert_balance_is_plaids(conn, fake_plaid, item, account_id)

    pending = fake_plaid.add(item, amount="42.00", name="HOTEL HOLD", pending=True)
    assert sync(connection["id"]).added == 1
    held = conn.execute("SELECT id, status FROM transactions WHERE plaid_transaction_id = %s", (pending,)).fetchone()
    assert held["status"] == "pending"
    conn.execute("UPDATE transactions SET notes = 'keep me' WHERE id = %s", (held["id"],))
    assert_balance_is_plaids(conn, fake_plaid, item, account_id)

    posted = fake_plaid.post(item, pending, amount="40.00")
    report = sync(connection["id"])
    assert (report.added, report.updated) == (0, 1)
    rows = conn.execute(
        "SELECT id, status, amount, notes, plaid_transaction_id FROM transactions WHERE description = 'HOTEL HOLD'"
    ).fetchall()
    assert len(rows) == 1  # the posted one replaced its pending twin, never both
    assert (rows[0]["id"], rows[0]["status"], rows[0]["amount"], rows[0]["notes"]) == (
        held["id"],
        "posted",
        Decimal("-40.00"),
        "keep me",
    )
    assert rows[0]["plaid_transaction_id"] == posted
    assert_balance_is_plaids(conn, fake_plaid, item, account_id)
    # Every step was explained by transactions alone: the opening balance never moved after the first sync.
    assert account_state(conn, account_id)["opening_balance"] == anchor
    logs = conn.execute(
        "SELECT transactions_updated, transactions_deleted, status FROM data_sync_logs ORDER BY created_at"
    ).fetchall()
    assert [log["status"] for log in logs] == ["completed"] * 5


def test_a_crash_between_pages_loses_nothing_and_doubles_nothing(client, conn, make_user, fake_plaid):
    _user, connection, account_id, item, ids = _linked_with_history(client, conn, make_user, fake_plaid, n=23)
    fake_plaid.fail("/transactions/sync", after=2, status=500, error_code="INTERNAL_SERVER_ERROR")

    first = sync(connection["id"])

    assert (first.status, first.pages, first.added) == ("failed", 2, 10)
    assert conn.execute("SELECT status FROM data_sync_logs").fetchone()["status"] == "failed"
    second = sync(connection["id"])
    assert (second.status, second.added) == ("completed", 13)
    rows = _rows(conn, account_id)
    assert sorted(r["plaid_transaction_id"] for r in rows) == sorted(ids)
    assert_balance_is_plaids(conn, fake_plaid, item, account_id)


def test_a_crash_inside_a_page_rolls_the_page_back(client, conn, make_user, fake_plaid, monkeypatch):
    from chalicelib.bank_sync import page_repo

    _user, connection, account_id, item, ids = _linked_with_history(client, conn, make_user, fake_plaid, n=12)
    real_write, calls = page_repo.write, []

    def crash_on_second_page(*args, **kwargs):
        result = real_write(*args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the function died after writing, before its commit")
        return result

    monkeypatch.setattr(page_repo, "write", crash_on_second_page)
    with pytest.raises(RuntimeError):
        sync(connection["id"])
    assert len(_rows(conn, account_id)) == 5
    monkeypatch.setattr(page_repo, "write", real_write)
    assert sync(connection["id"]).status == "completed"
    assert sorted(r["plaid_transaction_id"] for r in _rows(conn, account_id)) == sorted(ids)
    assert_balance_is_plaids(conn, fake_plaid, item, account_id)
    statuses = [r["status"] for r in conn.execute("SELECT status FROM data_sync_logs ORDER BY created_at").fetchall()]
    assert statuses == ["failed", "completed"]


def test_mutation_during_pagination_restarts_from_the_last_committed_cursor(client, conn, make_user, fake_plaid):
    _user, connection, account_id, item, ids = _linked_with_history(client, conn, make_user, fake_plaid, n=12)
    late = []
    fake_plaid.after_sync_page.append(lambda: late.append(fake_plaid.add(item, amount="7.77", name="Late arrival")))

    report = sync(connection["id"])

    assert (report.status, report.restarts, report.added) == ("completed", 1, 13)
    assert sorted(r["plaid_transaction_id"] for r in _rows(conn, account_id)) == sorted(ids + late)
    assert_balance_is_plaids(conn, fake_plaid, item, account_id)


def test_a_page_delivered_twice_books_once(client, conn, make_user, fake_plaid):
    """Plaid may resend a page (a restart from the cursor where pagination began): added is an upsert."""
    _user, connection, account_id, item, _ids = _linked_with_history(client, conn, make_user, fake_plaid, n=7)
    assert sync(connection["id"]).added == 7
    conn.execute("UPDATE bank_connections SET sync_cursor = NULL")
    report = sync(connection["id"])
    assert (report.added, report.updated) == (0, 7)
    assert len(_rows(conn, account_id)) == 7
    assert_balance_is_plaids(conn, fake_plaid, item, account_id)


def test_two_runs_never_sync_one_item_at_once(client, conn, make_user, fake_plaid):
    from chalicelib.bank_sync.sync import LOCK_CLASS, _lock_key
    from chalicelib.infra import db

    _user, connection, _account_id, _item, _ids = _linked_with_history(client, conn, make_user, fake_plaid, n=3)
    from uuid import UUID

    # Held as the sync holds it, in an open transaction: behind PgBouncer a session lock would
    # stay on a pooled server connection that the sync's own connection may be handed next.
    with db.connect(conn.info.dsn) as other, other.transaction():
        other.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_CLASS, _lock_key(UUID(connection["id"]))))
        assert sync(connection["id"]).status == "busy"
    assert sync(connection["id"]).status == "completed"


def test_user_rules_win_over_plaids_category(client, conn, make_user, fake_plaid):
    user = make_user()
    groceries = default_category(conn, "Groceries", "Food & Dining")
    conn.execute(
        """INSERT INTO categorization_rules (user_id, category_id, field, match_type, pattern, priority)
           VALUES (%s, %s, 'description', 'contains', 'corner shop', 10)""",
        (user["id"], groceries),
    )
    token = fake_plaid.create_item()
    item = fake_plaid.item_of(token)
    fake_plaid.add(
        item,
        amount="12.00",
        name="CORNER SHOP 44",
        category=("GENERAL_MERCHANDISE", "GENERAL_MERCHANDISE_OTHER", "HIGH"),
    )
    fake_plaid.add(
        item, amount="30.00", name="MEGASTORE", category=("GENERAL_MERCHANDISE", "GENERAL_MERCHANDISE_OTHER", "LOW")
    )
    connection = client.http.post(
        "/bank-connections", body=f'{{"public_token": "{token}"}}', headers=user["headers"]
    ).json_body
    sync(connection["id"])
    rows = {r["description"]: r for r in _rows(conn, connection["accounts"][0]["id"])}
    assert (rows["CORNER SHOP 44"]["category_id"], rows["CORNER SHOP 44"]["categorization_source"]) == (groceries, "ml")
    assert rows["MEGASTORE"]["category_id"] == default_category(conn, "Shopping")
    assert (rows["MEGASTORE"]["categorization_source"], rows["MEGASTORE"]["categorization_confidence"]) == (
        "plaid",
        Decimal("0.40"),
    )


def test_the_fast_page_reader_books_what_the_clients_models_book(client, conn, make_user, fake_plaid, monkeypatch):
    """Production reads sync pages with our own strict models (plaid_pages.py); same rows as plaid-python's."""
    from chalicelib.bank_sync import plaid_provider
    from chalicelib.infra.settings import get_settings

    results = []
    for typed in ("true", "false"):
        monkeypatch.setenv("PLAID_TYPED_SYNC_PAGES", typed)
        get_settings.cache_clear()
        plaid_provider._api.cache_clear()
        user = make_user()
        token = fake_plaid.create_item()
        item = fake_plaid.item_of(token)
        coffee = ("FOOD_AND_DRINK", "FOOD_AND_DRINK_COFFEE", "HIGH")
        fake_plaid.add(item, amount="4.105", name="COFFEE", merchant="Cafe", category=coffee,
                       location={"city": "Oslo", "lat": 59.91, "lon": 10.75})  # fmt: skip
        pending = fake_plaid.add(item, amount="20.00", name="HOLD", pending=True)
        fake_plaid.post(item, pending, amount="19.99")
        fake_plaid.add(item, amount="-100.00", name="REFUND", currency="EUR")
        connection = client.http.post(
            "/bank-connections", body=f'{{"public_token": "{token}"}}', headers=user["headers"]
        ).json_body
        report = sync(connection["id"])
        rows = conn.execute(
            """SELECT description, merchant, amount, currency, status, location, categorization_source,
                      categorization_confidence, transaction_date, posted_date
                 FROM transactions WHERE account_id = %s ORDER BY description""",
            (connection["accounts"][0]["id"],),
        ).fetchall()
        results.append((report.added, report.updated, report.deleted, rows))
        assert_balance_is_plaids(conn, fake_plaid, item, connection["accounts"][0]["id"])
    assert results[0] == results[1]
    assert [r["description"] for r in results[1][3]] == ["COFFEE", "HOLD", "REFUND"]


def test_a_sync_moves_budgets_the_search_outbox_and_caches_as_an_import_does(client, conn, make_user, fake_plaid):
    user = make_user()
    coffee = default_category(conn, "Coffee Shops", "Food & Dining")
    budget = conn.execute(
        """INSERT INTO budgets (user_id, name, period_type, start_date, total_amount)
           VALUES (%s, 'Coffee', 'monthly', date_trunc('month', CURRENT_DATE)::date, 10) RETURNING id""",
        (user["id"],),
    ).fetchone()["id"]
    conn.execute(
        "INSERT INTO budget_categories (budget_id, category_id, allocated_amount) VALUES (%s, %s, 10)", (budget, coffee)
    )
    token = fake_plaid.create_item()
    item = fake_plaid.item_of(token)
    body = f'{{"public_token": "{token}"}}'
    connection = client.http.post("/bank-connections", body=body, headers=user["headers"]).json_body
    before = client.http.get("/dashboard", headers=user["headers"]).json_body
    fake_plaid.add(
        item, amount="12.00", name="BLUE BOTTLE", category=("FOOD_AND_DRINK", "FOOD_AND_DRINK_COFFEE", "HIGH")
    )

    sync(connection["id"])

    alert = conn.execute("SELECT type FROM notifications WHERE user_id = %s AND type = 'budget_alert'", (user["id"],))
    assert alert.fetchone() is not None
    outbox = conn.execute("SELECT count(*) AS n FROM outbox WHERE aggregate_type = 'transaction'").fetchone()["n"]
    assert outbox == 1
    after = client.http.get("/dashboard", headers=user["headers"]).json_body
    assert Decimal(after["spent_month_to_date"]) == Decimal(before["spent_month_to_date"]) + Decimal("12.00")
    found = client.http.get("/search/transactions?q=blue%20bottle", headers=user["headers"]).json_body
    assert found["total"] == 1
    # The page's postings are owed, as an import's are (search reads the row from the heap
    # meanwhile), until the search-sync job builds them.
    owed = conn.execute("SELECT cardinality(ids) AS n FROM search_backlog WHERE scope = %s", (user["id"],))
    assert [r["n"] for r in owed] == [1]
    postings.index_backlog()
    assert conn.execute("SELECT count(*) AS n FROM search_backlog").fetchone()["n"] == 0
    words = conn.execute("SELECT word FROM search_postings WHERE scope = %s ORDER BY word", (user["id"],))
    assert [r["word"] for r in words] == ["blue", "bottle"]
    again = client.http.get("/search/transactions?q=blue%20bottle", headers=user["headers"]).json_body
    assert again["total"] == 1 and again["items"] == found["items"]


def test_an_account_opened_after_linking_is_linked_and_synced(client, conn, make_user, fake_plaid):
    user, connection, account_id, item, _ids = _linked_with_history(client, conn, make_user, fake_plaid, n=3)
    assert sync(connection["id"]).added == 3
    card = fake_plaid.open_account(item, name="Platypus Card", base="100.00")
    fake_plaid.add(item, card, amount="25.00", name="BOOKSHOP")
    fake_plaid.add(item, card, amount="-10.00", name="CARD PAYMENT")
    fake_plaid.add(item, amount="5.00", name="NOT OURS", account_id="acc-of-another-item")

    report = sync(connection["id"])

    assert (report.status, report.added, report.ignored) == ("completed", 2, 1)
    linked = conn.execute(
        """SELECT a.id, a.type, a.user_id, a.family_id FROM accounts a
            WHERE a.bank_connection_id = %s AND a.plaid_account_id = %s""",
        (connection["id"], card.account_id),
    ).fetchone()
    assert linked["type"] == "credit_card" and linked["family_id"] is None
    assert {r["description"] for r in _rows(conn, linked["id"])} == {"BOOKSHOP", "CARD PAYMENT"}
    assert_balance_is_plaids(conn, fake_plaid, item, linked["id"], index=1)
    assert_balance_is_plaids(conn, fake_plaid, item, account_id)
    got = client.http.get(f"/bank-connections/{connection['id']}", headers=user["headers"]).json_body
    assert {a["plaid_account_id"] for a in got["accounts"]} == {a.account_id for a in item.accounts}
    # One data_sync_logs row per account and run, each counting its own account's rows.
    logs = conn.execute(
        """SELECT account_id, status, transactions_added, metadata FROM data_sync_logs
            WHERE sync_type = 'plaid' ORDER BY created_at, account_id"""
    ).fetchall()
    run = [log for log in logs if log["account_id"] == linked["id"] or log["metadata"].get("sync_run")]
    assert [(log["account_id"], log["status"], log["transactions_added"]) for log in run] == [
        (linked["id"], "completed", 2)
    ]
    second_run_row = [log for log in logs if str(log["account_id"]) == account_id][-1]
    assert (second_run_row["transactions_added"], second_run_row["metadata"]["ignored_unknown_account"]) == (0, 1)
    assert run[0]["metadata"]["sync_run"] == str(report.log_id)
    assert sync(connection["id"]).added == 0  # linked once


def test_an_unlisted_new_account_is_looked_up_once_and_unknown_ones_stay_ignored(client, conn, make_user, fake_plaid):
    _user, connection, _account_id, item, _ids = _linked_with_history(client, conn, make_user, fake_plaid, n=2)
    assert sync(connection["id"]).added == 2
    fake_plaid.sync_lists_accounts = False
    savings = fake_plaid.open_account(item, name="Rainy Day", type="depository", subtype="savings", base="50.00")
    for n in range(7):  # over two pages of five
        fake_plaid.add(item, savings, amount=f"-{n + 1}.00", name=f"DEPOSIT {n}")
    fake_plaid.add(item, amount="5.00", name="NOT OURS", account_id="acc-of-another-item")
    calls = len(fake_plaid.calls)

    report = sync(connection["id"])

    assert (report.status, report.added, report.ignored, report.pages) == ("completed", 7, 1, 2)
    assert fake_plaid.calls[calls:].count("/accounts/get") == 1
    linked = conn.execute(
        "SELECT id, type FROM accounts WHERE bank_connection_id = %s AND plaid_account_id = %s",
        (connection["id"], savings.account_id),
    ).fetchone()
    assert linked["type"] == "savings" and len(_rows(conn, linked["id"])) == 7


@pytest.fixture
def prefetch(monkeypatch):
    from chalicelib.infra.settings import get_settings

    monkeypatch.setenv("BANK_SYNC_PREFETCH", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_with_prefetch_a_crash_between_pages_loses_nothing_and_doubles_nothing(
    client, conn, make_user, fake_plaid, prefetch
):
    _user, connection, account_id, item, ids = _linked_with_history(client, conn, make_user, fake_plaid, n=23)
    fake_plaid.fail("/transactions/sync", after=2, status=500, error_code="INTERNAL_SERVER_ERROR")

    first = sync(connection["id"])

    # The third page was asked for while the second was written; its failure counts once that one is in.
    assert (first.status, first.pages, first.added) == ("failed", 2, 10)
    second = sync(connection["id"])
    assert (second.status, second.pages, second.added) == ("completed", 3, 13)
    assert sorted(r["plaid_transaction_id"] for r in _rows(conn, account_id)) == sorted(ids)
    assert_balance_is_plaids(conn, fake_plaid, item, account_id)


def test_with_prefetch_a_mutation_restarts_from_the_last_committed_cursor(
    client, conn, make_user, fake_plaid, prefetch, monkeypatch
):
    from chalicelib.bank_sync import page_repo

    _user, connection, account_id, item, ids = _linked_with_history(client, conn, make_user, fake_plaid, n=12)
    late = []
    fake_plaid.after_sync_page.append(lambda: late.append(fake_plaid.add(item, amount="7.77", name="Late arrival")))
    real_write, calls = page_repo.write, []

    def crash_on_second_page(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the function died while writing the second page")
        return real_write(*args, **kwargs)

    report = sync(connection["id"])
    assert (report.status, report.restarts, report.added) == ("completed", 1, 13)
    monkeypatch.setattr(page_repo, "write", crash_on_second_page)
    for n in range(7):  # two pages of five
        fake_plaid.add(item, amount=f"{n + 1}.00", name="After")
    with pytest.raises(RuntimeError):
        sync(connection["id"])  # the page fetched ahead is dropped with the run
    monkeypatch.setattr(page_repo, "write", real_write)
    assert sync(connection["id"]).status == "completed"
    assert len(_rows(conn, account_id)) == len(ids) + len(late) + 7
    assert_balance_is_plaids(conn, fake_plaid, item, account_id)


def test_a_modified_transaction_whose_date_moved_far_is_still_found(client, conn, make_user, fake_plaid):
    """Held rows are looked for near their date first; a modified one that moved further is looked for everywhere."""
    _user, connection, account_id, item, ids = _linked_with_history(client, conn, make_user, fake_plaid, n=4)
    assert sync(connection["id"]).added == 4
    moved = (date.today() - timedelta(days=400)).isoformat()
    fake_plaid.modify(item, ids[2], date=moved, amount="12.34")

    report = sync(connection["id"])

    assert (report.added, report.updated) == (0, 1)
    rows = [r for r in _rows(conn, account_id) if r["plaid_transaction_id"] == ids[2]]
    assert [(r["transaction_date"].isoformat(), r["amount"]) for r in rows] == [(moved, Decimal("-12.34"))]
    assert len(_rows(conn, account_id)) == 4
    assert_balance_is_plaids(conn, fake_plaid, item, account_id)


def test_each_account_of_a_run_has_its_own_sync_log_row(client, conn, make_user, fake_plaid):
    user = make_user()
    specs = [{"name": "Checking", "type": "depository", "subtype": "checking"},
             {"name": "Savings", "type": "depository", "subtype": "savings"}]  # fmt: skip
    token = fake_plaid.create_item(accounts=specs)
    item = fake_plaid.item_of(token)
    ids = [fake_plaid.add(item, 0, amount=f"{n + 1}.00", name=f"SHOP {n}") for n in range(3)]
    fake_plaid.add(item, 1, amount="-50.00", name="TRANSFER IN")
    fake_plaid.add(item, 1, amount="-20.00", name="INTEREST")
    connection = client.http.post("/bank-connections", body=f'{{"public_token": "{token}"}}', headers=user["headers"])
    accounts = {a["plaid_account_id"]: a["id"] for a in connection.json_body["accounts"]}
    assert sync(connection.json_body["id"]).added == 5
    fake_plaid.remove(item, ids[0])

    assert sync(connection.json_body["id"]).deleted == 1

    logs = conn.execute(
        """SELECT account_id, status, transactions_added, transactions_deleted, metadata FROM data_sync_logs
            WHERE sync_type = 'plaid' ORDER BY created_at, account_id"""
    ).fetchall()
    counts = {(str(log["account_id"]), log["transactions_added"], log["transactions_deleted"]) for log in logs}
    checking, savings = accounts[item.accounts[0].account_id], accounts[item.accounts[1].account_id]
    assert counts == {(checking, 3, 0), (savings, 2, 0), (checking, 0, 1), (savings, 0, 0)}
    assert [log["status"] for log in logs] == ["completed"] * 4
    assert sum("pages" in log["metadata"] for log in logs) == 2  # the run's metadata once per run
    listed = client.http.get("/imports?sync_type=plaid", headers=user["headers"]).json_body["items"]
    assert len(listed) == 4
