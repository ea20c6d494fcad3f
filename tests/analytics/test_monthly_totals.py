"""The monthly roll-up of analytics (sql/1241): exact after every kind of write, and the
answers it gives equal the scan of `transactions` it replaces, partial months included."""

import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import psycopg
import pytest
from psycopg.rows import dict_row

from chalicelib.analytics.totals_repo import whole_months
from tests import factories
from tests.analytics.monthly_totals import drift
from tests.conftest import ADMIN_URL, TEST_DB, connect, database_url_for

TODAY = datetime.now(UTC).date()


@pytest.fixture
def books(conn, make_user):
    owner, member = make_user(), make_user()
    family = factories.make_family(conn, owner["id"], members={member["id"]: "member"})
    accounts = [
        factories.make_account(conn, owner["id"], name="Personal"),
        factories.make_account(conn, owner["id"], name="Card", type="credit_card"),
        factories.make_account(conn, owner["id"], name="Shared", family_id=family),
    ]
    categories = [
        factories.default_category(conn, "Groceries", "Food & Dining"),
        factories.default_category(conn, "Salary", "Income"),
        factories.default_category(conn, "Shopping"),
        None,
    ]
    rng = random.Random(17)
    for _ in range(150):
        account = rng.choice(accounts)
        factories.make_transaction(
            conn,
            member["id"] if account == accounts[2] and rng.random() < 0.5 else owner["id"],
            account,
            Decimal(rng.randint(1, 90_000) * rng.choice((-1, -1, 1))) / 100,
            day=TODAY - timedelta(days=rng.randint(0, 500)),
            category_id=rng.choice(categories),
            merchant=rng.choice(["Tesco", None]),
            status=rng.choice(["posted", "posted", "pending", "cancelled"]),
        )
    return {"owner": owner, "member": member, "family": family, "accounts": accounts, "categories": categories}


def test_the_migration_fills_the_roll_up_from_existing_rows(conn, books):
    conn.execute("SELECT transaction_monthly_totals_rebuild()")
    assert drift(conn) == []
    assert conn.execute("SELECT count(*) AS n FROM transaction_monthly_totals").fetchone()["n"] > 0


def test_inserts_updates_and_deletes_of_every_kind_keep_it_exact(conn, books):
    accounts, categories = books["accounts"], books["categories"]
    assert drift(conn) == []
    steps = [
        # amount, and a sign change (inflow flips)
        "UPDATE transactions SET amount = -amount WHERE amount > 100",
        "UPDATE transactions SET amount = amount + 0.01 WHERE amount < -300",
        # category, to another and to none
        ("UPDATE transactions SET category_id = %s WHERE category_id IS NULL", (categories[2],)),
        ("UPDATE transactions SET category_id = NULL WHERE category_id = %s", (categories[0],)),
        # date across a month (and across a partition)
        "UPDATE transactions SET transaction_date = transaction_date - 40 WHERE extract(day FROM transaction_date) < 8",
        # account, and owner with it (personal -> family account)
        (
            "UPDATE transactions SET account_id = %s, family_id = %s WHERE account_id = %s",
            (accounts[2], books["family"], accounts[1]),
        ),
        # cancelled in and out
        "UPDATE transactions SET status = 'cancelled' WHERE status = 'pending'",
        "UPDATE transactions SET status = 'posted' WHERE status = 'cancelled' AND amount < -450",
        # an update that changes nothing the roll-up holds
        "UPDATE transactions SET notes = 'seen'",
        # deletes
        "DELETE FROM transactions WHERE amount BETWEEN -50 AND 0",
        (
            "DELETE FROM transactions WHERE account_id = %s AND transaction_date < %s",
            (accounts[0], TODAY - timedelta(days=200)),
        ),
    ]
    for step in steps:
        statement, params = step if isinstance(step, tuple) else (step, None)
        conn.execute(statement, params)
        assert drift(conn) == [], statement
    # One statement inserting many rows into one month and account: one upsert per group.
    conn.execute(
        """INSERT INTO transactions (user_id, account_id, amount, description, transaction_date, status)
           SELECT %s, %s, -1.10, 'bulk', %s, 'posted' FROM generate_series(1, 500)""",
        (books["owner"]["id"], accounts[0], TODAY),
    )
    assert drift(conn) == []
    # Rows whose count fell to zero are gone, not kept as zeros.
    conn.execute("DELETE FROM transactions WHERE account_id = %s", (accounts[0],))
    assert drift(conn) == []
    assert not conn.execute(
        "SELECT 1 FROM transaction_monthly_totals WHERE account_id = %s OR n = 0", (accounts[0],)
    ).fetchall()


def test_deleting_an_account_or_a_category_follows_through_the_cascades(conn, books):
    conn.execute("DELETE FROM categories WHERE id = %s", (books["categories"][2],))
    assert drift(conn) == []
    conn.execute("DELETE FROM accounts WHERE id = %s", (books["accounts"][2],))
    assert drift(conn) == []


def test_truncate_empties_it(conn, books):
    with connect(conn.info.dsn, row_factory=dict_row) as other:
        other.execute("TRUNCATE transactions")
        assert other.execute("SELECT count(*) AS n FROM transaction_monthly_totals").fetchone()["n"] == 0
        other.rollback()
    assert drift(conn) == []


def test_whole_months_of_a_range():
    assert whole_months(date(2026, 1, 1), date(2026, 12, 31)) == (date(2026, 1, 1), date(2027, 1, 1))
    assert whole_months(date(2026, 1, 2), date(2026, 3, 30)) == (date(2026, 2, 1), date(2026, 3, 1))
    assert whole_months(date(2026, 2, 1), date(2026, 2, 28)) == (date(2026, 2, 1), date(2026, 3, 1))
    assert whole_months(date(2026, 2, 2), date(2026, 3, 30)) is None
    assert whole_months(date(2026, 2, 2), date(2026, 2, 27)) is None


def _get(client, user, path, **params):
    response = client.http.get(f"{path}?{urlencode(params)}", headers=user["headers"])
    assert response.status_code == 200, response.body
    return json.loads(response.body)


RANGES = [
    {},  # the default: 11 whole months and this month up to today
    {"from": str(TODAY - timedelta(days=400)), "to": str(TODAY - timedelta(days=3))},
    {"from": str(TODAY.replace(day=1) - timedelta(days=1)), "to": str(TODAY)},
    {"from": str(TODAY - timedelta(days=20)), "to": str(TODAY - timedelta(days=10))},  # no whole month
    {"from": "2020-01-01", "to": str(TODAY + timedelta(days=60))},
]


@pytest.mark.parametrize("who", ["owner", "member"])
def test_answers_equal_the_scan_for_every_grouping_range_and_filter(client, conn, books, settings_env, who):
    user = books[who]
    filters = [{}, {"family_id": str(books["family"])}, {"account_id": str(books["accounts"][2])}]
    if who == "owner":
        filters.append({"account_id": str(books["accounts"][0])})
    queries = [("/analytics/spending", {"group_by": g}) for g in ("category", "top_category", "month", "account")]
    queries.append(("/analytics/cashflow", {"interval": "month"}))
    settings_env(analytics_monthly_totals="true")
    rolled = {
        (path, json.dumps([q, r, f])): _get(client, user, path, **q, **r, **f)
        for path, q in queries
        for r in RANGES
        for f in filters
    }
    settings_env(analytics_monthly_totals="false")
    for (path, key), answer in rolled.items():
        q, r, f = json.loads(key)
        assert answer == _get(client, user, path, **q, **r, **f), (path, key)


def test_a_stranger_sees_nothing_of_the_roll_up(client, conn, books, make_user):
    stranger = make_user()
    body = _get(client, stranger, "/analytics/spending", group_by="top_category", **{"from": "2020-01-01"})
    assert body["items"] == [] and body["total"] == "0.00"
    response = client.http.get(
        f"/analytics/spending?group_by=category&family_id={books['family']}", headers=stranger["headers"]
    )
    assert response.status_code == 404


def test_archiving_months_forgets_them(conn, books):
    from chalicelib.retention.service import run_retention

    old = date(TODAY.year - 7, 3, 1)
    for day in (old, old + timedelta(days=40)):
        factories.make_transaction(conn, books["owner"]["id"], books["accounts"][0], "-12.00", day=day)
    old_rows = "SELECT count(*) AS n FROM transaction_monthly_totals WHERE month < %s"
    assert conn.execute(old_rows, (old + timedelta(days=60),)).fetchone()["n"] == 2

    run_retention()

    assert conn.execute("SELECT count(*) AS n FROM transactions_archive").fetchone()["n"] == 2
    assert drift(conn) == []
    assert conn.execute(old_rows, (old + timedelta(days=60),)).fetchone()["n"] == 0


@pytest.fixture
def empty_database():
    name = f"{TEST_DB}_totals_restore"
    yield database_url_for(name)
    with connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name)))


def test_a_restore_brings_it_back_exact_and_rebuilds_it_from_an_older_dump(
    conn, books, empty_database, storage_clean, monkeypatch
):
    from chalicelib.backups import dump, service
    from chalicelib.backups.restore import restore

    report = service.run_backup()
    restore(report.key, database_url=empty_database)
    with connect(empty_database, autocommit=True, row_factory=dict_row) as copy:
        assert drift(copy) == []
        assert copy.execute("SELECT count(*) AS n FROM transaction_monthly_totals").fetchone()["n"] > 0

    # A dump taken before sql/1241 has no roll-up table: the restore derives it.
    with connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(
            psycopg.sql.SQL("DROP DATABASE {} WITH (FORCE)").format(
                psycopg.sql.Identifier(psycopg.conninfo.conninfo_to_dict(empty_database)["dbname"])
            )
        )
    real = dump.dumped_tables
    monkeypatch.setattr(dump, "dumped_tables", lambda c: [t for t in real(c) if t != "transaction_monthly_totals"])
    older = service.run_backup(now=datetime.now(UTC) + timedelta(seconds=5))
    restore(older.key, database_url=empty_database)
    with connect(empty_database, autocommit=True, row_factory=dict_row) as copy:
        assert drift(copy) == []
        assert copy.execute("SELECT count(*) AS n FROM transaction_monthly_totals").fetchone()["n"] > 0
