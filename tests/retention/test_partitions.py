"""The `partitions` run: months from the archive boundary to three ahead, default rows moved."""

import threading
from datetime import UTC, date, datetime

from chalicelib.core.dates import month_start, shift_month
from chalicelib.jobs import run_job
from chalicelib.retention.partitions import MONTHS_AHEAD, ensure_partitions
from chalicelib.retention.units import archive_before
from tests.factories import make_account, make_transaction
from tests.retention.conftest import balances, layout, table_counts, where_is

TODAY = datetime.now(UTC).date()


def _bounds(conn) -> set[date]:
    return {
        date.fromisoformat(r["bound"].split("'")[1])
        for r in layout(conn)
        if r["parent"] == "transactions" and "DEFAULT" not in r["bound"]
    }


def test_every_month_from_the_archive_boundary_to_three_ahead_has_a_partition(conn):
    report = ensure_partitions()

    months = _bounds(conn)
    month = archive_before(TODAY)
    while month <= shift_month(month_start(TODAY), MONTHS_AHEAD):
        assert month in months, month
        month = shift_month(month, 1)
    assert report.last_month == shift_month(month_start(TODAY), 3)
    assert ensure_partitions().partitions_created == 0


def test_rows_in_the_default_partition_move_to_their_month_without_touching_balances(conn, make_user):
    owner = make_user()
    account = make_account(conn, owner["id"], opening_balance="10.00")
    ensure_partitions()
    far = date(TODAY.year + 3, 6, 10)  # beyond the months made ahead: lands in the default partition
    other = date(TODAY.year + 3, 7, 1)
    ids = [make_transaction(conn, owner["id"], account, amount, day=far) for amount in ("-1.00", "2.50")]
    ids.append(make_transaction(conn, owner["id"], account, "-4.00", day=other, status="cancelled"))
    assert {where_is(conn, i) for i in ids} == {"live:transactions_default"}
    before = balances(conn)

    report = ensure_partitions()

    assert report.rows_moved_from_default == 3 and report.partitions_created == 2
    assert [where_is(conn, i) for i in ids] == [
        f"live:transactions_y{far.year}m06",
        f"live:transactions_y{far.year}m06",
        f"live:transactions_y{far.year}m07",
    ]
    assert report.rows_in_default_partition == 0
    assert balances(conn) == before  # rows moved out of the partition directly: no balance trigger fired
    # The new partitions are full members: the row triggers of the parent were cloned onto them.
    conn.execute("UPDATE transactions SET amount = -2.00 WHERE id = %s", (ids[0],))
    assert all(stored == expected for stored, expected in balances(conn).values())


def test_dry_run_reports_and_changes_nothing(conn, make_user):
    owner = make_user()
    account = make_account(conn, owner["id"])
    make_transaction(conn, owner["id"], account, "-1.00", day=date(TODAY.year + 4, 2, 2))
    before = (table_counts(conn), layout(conn))

    dry = ensure_partitions(dry_run=True)

    assert (table_counts(conn), layout(conn)) == before
    assert dry.rows_moved_from_default == 1 and dry.partitions_created >= 1
    real = ensure_partitions()
    assert (real.partitions_created, real.rows_moved_from_default) == (dry.partitions_created, 1)


def test_two_runs_at_once_create_each_month_once_without_errors(conn, make_user):
    owner = make_user()
    account = make_account(conn, owner["id"])
    make_transaction(conn, owner["id"], account, "-1.00", day=date(TODAY.year + 5, 3, 3))
    reports, errors = [], []

    def run():
        try:
            reports.append(run_job("partitions"))
        except Exception as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sum(r["rows_moved_from_default"] for r in reports) == 1
    assert conn.execute("SELECT count(*) AS n FROM transactions_default").fetchone()["n"] == 0
