"""A posted row replaces its pending twin (same account and amount, alike description,
dated within 5 days), in the same file or a later one: one transaction, updated in place,
counted once in the balance, re-indexed and its caches dropped; never both."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from chalicelib.core import caching
from chalicelib.imports import processing
from chalicelib.imports.statement_readers import read_statement as real_read_statement
from tests.factories import make_transaction
from tests.imports.conftest import balance_of, queued_transactions, transactions_of


@pytest.fixture
def pending_lines(monkeypatch):
    """Mark the rows read from these lines as pending, as a bank's pending rows arrive
    (until every reader reports a row's status itself)."""
    lines: set[int] = set()

    def reader(statement, **kwargs):
        real = real_read_statement(statement, **kwargs)

        class Marked:
            def rows(self):
                for item in real.rows():
                    if getattr(item, "line", None) in lines and hasattr(item, "status"):
                        item.status = "pending"
                    yield item

            def __getattr__(self, name):
                return getattr(real, name)

        return Marked()

    monkeypatch.setattr(processing, "read_statement", reader)
    return lines


def _csv(*rows: tuple[date, str, str]) -> bytes:
    return (
        "Date,Description,Amount\n" + "".join(f"{d.isoformat()},{text},{amount}\n" for d, text, amount in rows)
    ).encode()


def test_a_posted_row_in_a_later_file_replaces_its_pending_twin(conn, owner, checking, run_import):
    pending = make_transaction(
        conn, owner["id"], checking, "-42.10", day=date(2024, 3, 1), description="AMAZON MKTP US*1A2B3",
        status="pending", notes="gift for Sam",
    )  # fmt: skip
    assert balance_of(conn, checking) == Decimal("57.90")
    generation = caching.user_generation(owner["id"])

    record = run_import(
        owner["id"], checking, "march.csv",
        _csv((date(2024, 3, 3), "AMAZON MKTP US*1A2B3 AMZN.COM/BILL", "-42.10"), (date(2024, 3, 4), "Bakery", "-5.00")),
    )  # fmt: skip

    assert record["status"] == "completed", record["error_message"]
    assert (record["transactions_added"], record["transactions_updated"], record["duplicates_skipped"]) == (1, 1, 0)
    rows = {r["description"]: r for r in transactions_of(conn, checking)}
    assert set(rows) == {"AMAZON MKTP US*1A2B3 AMZN.COM/BILL", "Bakery"}
    twin = rows["AMAZON MKTP US*1A2B3 AMZN.COM/BILL"]
    assert (twin["id"], twin["status"], twin["transaction_date"]) == (pending, "posted", date(2024, 3, 3))
    assert (twin["import_id"], twin["notes"]) == (record["id"], "gift for Sam")
    assert balance_of(conn, checking) == Decimal("52.90")
    assert queued_transactions(conn) == {pending, rows["Bakery"]["id"]}
    assert caching.user_generation(owner["id"]) != generation


def test_a_pending_row_and_its_posted_row_in_one_file_book_one_transaction(
    conn, owner, checking, run_import, pending_lines
):
    pending_lines.add(2)

    record = run_import(
        owner["id"], checking, "both.csv",
        _csv((date(2024, 3, 4), "SQ *CORNER CAFE", "-12.40"), (date(2024, 3, 6), "SQ *CORNER CAFE SEATTLE", "-12.40")),
    )  # fmt: skip

    assert record["status"] == "completed", record["error_message"]
    assert (record["transactions_added"], record["transactions_updated"], record["duplicates_skipped"]) == (1, 0, 1)
    (only,) = transactions_of(conn, checking)
    assert (only["description"], only["status"], only["amount"]) == (
        "SQ *CORNER CAFE SEATTLE",
        "posted",
        Decimal("-12.40"),
    )
    assert balance_of(conn, checking) == Decimal("87.60")


def test_pending_rows_import_as_pending_and_the_next_statement_posts_them(
    conn, owner, checking, run_import, pending_lines
):
    pending_lines.add(2)
    first = run_import(owner["id"], checking, "mon.csv", _csv((date(2024, 3, 4), "UBER TRIP 8XZ", "-23.00")))
    pending_lines.clear()

    second = run_import(
        owner["id"], checking, "tue.csv", _csv((date(2024, 3, 5), "UBER TRIP 8XZ HELP.UBER.COM", "-23.00"))
    )
    third = run_import(
        owner["id"], checking, "tue.csv", _csv((date(2024, 3, 5), "UBER TRIP 8XZ HELP.UBER.COM", "-23.00"))
    )

    assert (first["transactions_added"], second["transactions_added"], second["transactions_updated"]) == (1, 0, 1)
    assert (third["transactions_added"], third["transactions_updated"], third["duplicates_skipped"]) == (0, 0, 1)
    (only,) = transactions_of(conn, checking)
    assert (only["status"], only["import_id"]) == ("posted", second["id"])
    assert balance_of(conn, checking) == Decimal("77.00")


def test_a_pending_row_whose_posted_twin_is_in_the_account_is_a_duplicate(
    conn, owner, checking, run_import, pending_lines
):
    make_transaction(conn, owner["id"], checking, "-9.99", day=date(2024, 3, 8), description="SPOTIFY USA")
    pending_lines.add(2)

    record = run_import(owner["id"], checking, "late-pending.csv", _csv((date(2024, 3, 6), "SPOTIFY USA P3F", "-9.99")))

    assert (record["status"], record["transactions_added"], record["duplicates_skipped"]) == ("completed", 0, 1)
    assert [r["status"] for r in transactions_of(conn, checking)] == ["posted"]
    assert balance_of(conn, checking) == Decimal("90.01")


def test_rows_that_are_not_twins_are_both_kept(conn, owner, checking, run_import):
    pending = make_transaction(
        conn, owner["id"], checking, "-15.99", day=date(2024, 3, 1), description="NETFLIX.COM", status="pending"
    )

    record = run_import(
        owner["id"], checking, "others.csv",
        _csv(
            (date(2024, 3, 2), "SHELL OIL 5531", "-15.99"),  # another description
            (date(2024, 3, 9), "NETFLIX.COM", "-15.99"),  # 8 days later
            (date(2024, 3, 2), "NETFLIX.COM", "-16.99"),  # another amount
        ),
    )  # fmt: skip

    assert (record["transactions_added"], record["transactions_updated"]) == (3, 0)
    statuses = {r["id"]: r["status"] for r in transactions_of(conn, checking)}
    assert statuses[pending] == "pending" and len(statuses) == 4
    assert balance_of(conn, checking) == Decimal("100.00") - Decimal("15.99") * 3 - Decimal("16.99")


def test_one_posted_row_replaces_one_of_two_pending_twins(conn, owner, checking, run_import):
    for day in (date(2024, 3, 1), date(2024, 3, 2)):
        make_transaction(conn, owner["id"], checking, "-4.50", day=day, description="STARBUCKS 1234", status="pending")

    record = run_import(owner["id"], checking, "one.csv", _csv((date(2024, 3, 2), "STARBUCKS 1234 SEATTLE", "-4.50")))

    assert (record["transactions_added"], record["transactions_updated"]) == (0, 1)
    rows = transactions_of(conn, checking)
    assert sorted((r["transaction_date"], r["status"]) for r in rows) == [
        (date(2024, 3, 1), "pending"), (date(2024, 3, 2), "posted"),
    ]  # fmt: skip
    assert balance_of(conn, checking) == Decimal("91.00")


def test_the_balance_counts_a_twin_once_when_posting_moves_it_to_another_month(conn, owner, checking, run_import):
    first_of_month = date.today().replace(day=1)
    pending_day, posted_day = first_of_month - timedelta(days=2), first_of_month + timedelta(days=1)
    pending = make_transaction(
        conn, owner["id"], checking, "-250.00", day=pending_day, description="HOTEL CASTELLO", status="pending"
    )
    before = conn.execute("SELECT tableoid::regclass::text AS p FROM transactions WHERE id = %s", (pending,)).fetchone()

    record = run_import(owner["id"], checking, "hotel.csv", _csv((posted_day, "HOTEL CASTELLO ROMA", "-250.00")))

    after = conn.execute(
        "SELECT tableoid::regclass::text AS p, status FROM transactions WHERE id = %s", (pending,)
    ).fetchone()
    assert record["transactions_updated"] == 1
    assert before["p"] != after["p"] and after["status"] == "posted"
    assert balance_of(conn, checking) == Decimal("-150.00")
    assert conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"] == 1
