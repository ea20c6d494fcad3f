"""Archiving transactions older than five years: whole months, balances untouched."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.retention import archive
from chalicelib.retention.partitions import give_month_its_partition
from chalicelib.retention.service import run_retention
from chalicelib.retention.units import archive_before, upkeep_unit
from tests.factories import make_account, make_family, make_transaction
from tests.retention.conftest import balances, layout, table_counts, where_is

TODAY = datetime.now(UTC).date()
BEFORE = archive_before(TODAY)  # first day of the month five years ago


def _day_before(day: date) -> date:
    return day - timedelta(days=1)


@pytest.fixture
def ledger(conn, make_user):
    """Two people, personal and family accounts, transactions across eight years, some in
    old months that have their own partition (made when they were current), some that
    fell into the default partition, one cancelled."""
    owner, member = make_user(), make_user()
    family = make_family(conn, owner["id"], members={member["id"]: "member"})
    personal = make_account(conn, owner["id"], opening_balance="1000.00")
    shared = make_account(conn, owner["id"], name="Shared", family_id=family, opening_balance="50.00")
    # Two old months with partitions of their own, as `partitions` made them back then.
    for month in (date(TODAY.year - 8, TODAY.month, 1), date(TODAY.year - 6, 1, 1)):
        with upkeep_unit("partitions") as unit:
            give_month_its_partition(unit, month)
    rows = {
        "eight_years": make_transaction(
            conn, owner["id"], personal, "-120.50", day=date(TODAY.year - 8, TODAY.month, 3)
        ),
        "six_years_family": make_transaction(
            conn, member["id"], shared, "-30.00", day=date(TODAY.year - 6, 1, 15), family_id=family
        ),
        "cancelled_old": make_transaction(
            conn, owner["id"], personal, "-999.00", day=date(TODAY.year - 7, 2, 2), status="cancelled"
        ),
        "last_old_day": make_transaction(conn, owner["id"], personal, "-10.00", day=_day_before(BEFORE)),
        "first_kept_day": make_transaction(conn, owner["id"], personal, "-20.00", day=BEFORE),
        "recent": make_transaction(conn, owner["id"], personal, "200.00", day=TODAY),
        "recent_family": make_transaction(conn, member["id"], shared, "-5.00", day=TODAY, family_id=family),
    }
    # A row older than five years by days, in the month that is not whole yet: it stays.
    if TODAY.day > 2:
        partial_day = BEFORE.replace(day=min(TODAY.day - 1, 28))
        rows["partial_month"] = make_transaction(conn, owner["id"], personal, "-1.00", day=partial_day)
    return {"owner": owner, "member": member, "family": family, "rows": rows}


def test_whole_months_older_than_five_years_move_and_balances_do_not(conn, ledger):
    rows = ledger["rows"]
    before = balances(conn)
    assert all(stored == expected for stored, expected in before.values())
    total = conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"]

    report = run_retention()

    assert balances(conn) == before  # detach/attach and the direct moves fired no balance trigger
    for name in ("eight_years", "six_years_family", "cancelled_old", "last_old_day"):
        assert where_is(conn, rows[name]).startswith("archive:transactions_archive_y"), name
    for name in ("first_kept_day", "recent", "recent_family", "partial_month"):
        if name in rows:
            assert where_is(conn, rows[name]).startswith("live:"), name
    assert report.transactions_archived == 4
    assert report.default_rows_archived >= 1  # last_old_day's month had no partition of its own
    live = conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"]
    archived = conn.execute("SELECT count(*) AS n FROM transactions_archive").fetchone()["n"]
    assert (live, archived) == (total - 4, 4)
    assert not [
        p
        for p in layout(conn)
        if p["parent"] == "transactions"
        and "DEFAULT" not in p["bound"]
        and p["bound"] < f"FOR VALUES FROM ('{BEFORE}')"
    ]


def test_archived_rows_keep_every_column_and_archived_months_keep_the_live_indexes(conn, ledger):
    row_id = ledger["rows"]["eight_years"]
    live = conn.execute("SELECT * FROM transactions WHERE id = %s", (row_id,)).fetchone()

    run_retention()

    archived = conn.execute("SELECT * FROM transactions_archive WHERE id = %s", (row_id,)).fetchone()
    assert archived == live
    partition = where_is(conn, row_id).split(":")[1]
    indexes = {
        r["indexdef"].split(" USING ")[1]
        for r in conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", (partition,))
    }
    archive_indexes = {
        r["indexdef"].split(" USING ")[1]
        for r in conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'transactions_archive'")
    }
    # The archive's own indexes, adopted from the live month; the live-only ones are dropped.
    assert indexes == archive_indexes
    assert "btree (account_id, transaction_date DESC, created_at DESC, id DESC)" in indexes


def test_dry_run_reports_the_move_and_changes_nothing(conn, ledger):
    before_counts, before_layout, before_balances = table_counts(conn), layout(conn), balances(conn)

    dry = run_retention(dry_run=True)

    assert (table_counts(conn), layout(conn), balances(conn)) == (before_counts, before_layout, before_balances)
    real = run_retention()
    assert (dry.transactions_archived, dry.months_archived) == (real.transactions_archived, real.months_archived)


def test_a_second_run_moves_nothing(conn, ledger):
    run_retention()
    again = run_retention()
    assert (again.months_archived, again.transactions_archived) == (0, 0)


def test_a_run_failing_between_months_leaves_whole_months_and_the_next_run_finishes(conn, ledger, monkeypatch):
    before = balances(conn)
    total = conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"]
    real_move = archive._move
    moved = []

    def killed_after_first_month(partition):
        if moved:
            raise RuntimeError("killed")
        moved.append(partition)
        return real_move(partition)

    monkeypatch.setattr(archive, "_move", killed_after_first_month)
    with pytest.raises(RuntimeError):
        run_retention()
    half = conn.execute("SELECT count(*) AS n FROM transactions_archive").fetchone()["n"]
    assert 0 < half < 4
    assert balances(conn) == before

    monkeypatch.setattr(archive, "_move", real_move)
    run_retention()
    assert conn.execute("SELECT count(*) AS n FROM transactions_archive").fetchone()["n"] == 4
    assert conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"] == total - 4
    both = conn.execute("SELECT count(*) AS n FROM transactions t JOIN transactions_archive a USING (id)").fetchone()
    assert both["n"] == 0
    assert balances(conn) == before


def test_two_runs_at_once_move_each_month_once_without_errors(conn, ledger):
    before = balances(conn)
    reports, errors = [], []

    def run():
        try:
            reports.append(run_retention())
        except Exception as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sum(r.transactions_archived for r in reports) == 4
    assert conn.execute("SELECT count(*) AS n FROM transactions_archive").fetchone()["n"] == 4
    assert balances(conn) == before


def test_a_month_already_in_the_archive_takes_late_rows_in(conn, ledger):
    """A back-dated row for a month that was archived earlier lands in the default
    partition; the next run adds it to the archived month."""
    run_retention()
    rows = ledger["rows"]
    old_day = date(TODAY.year - 8, TODAY.month, 20)
    owner = ledger["owner"]["id"]
    account = conn.execute(
        "SELECT account_id FROM transactions_archive WHERE id = %s", (rows["eight_years"],)
    ).fetchone()
    before = balances(conn)
    late = make_transaction(conn, owner, account["account_id"], "-3.00", day=old_day)
    assert where_is(conn, late) == "live:transactions_default"
    after_insert = balances(conn)
    assert after_insert != before and all(s == e for s, e in after_insert.values())

    report = run_retention()

    assert report.transactions_archived == 1
    assert where_is(conn, late) == where_is(conn, rows["eight_years"])
    assert balances(conn) == after_insert


def test_archived_transactions_of_a_deleted_account_go_with_it(conn, ledger):
    run_retention()
    account = conn.execute(
        "SELECT account_id FROM transactions_archive WHERE id = %s", (ledger["rows"]["eight_years"],)
    ).fetchone()["account_id"]

    conn.execute("DELETE FROM accounts WHERE id = %s", (account,))

    assert (
        conn.execute("SELECT count(*) AS n FROM transactions_archive WHERE account_id = %s", (account,)).fetchone()["n"]
        == 0
    )
