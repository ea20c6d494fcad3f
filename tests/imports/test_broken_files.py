"""Poison input: every broken file fails as a whole, names its bad lines, writes nothing,
and is not retried."""

from decimal import Decimal

import pytest

from chalicelib.infra.settings import get_settings
from tests.imports.conftest import balance_of, fixture_bytes, transactions_of

# file, words the error message holds, the bad lines with a word of their message
CORPUS = [
    ("broken/bad_dates.csv", "2 line(s)", [(3, "not a date"), (5, "not a date")]),
    ("broken/missing_amounts.csv", "2 line(s)", [(3, "amount is missing"), (5, "not an amount")]),
    ("broken/ragged_rows.csv", "2 line(s)", [(3, "found 3"), (5, "found 5")]),
    ("broken/mixed_decimal.csv", "1 line(s)", [(3, "decimal separator")]),
    ("broken/mixed_encoding.csv", "mixes encodings", [(3, "not valid UTF-8")]),
    ("broken/bad_amount.qif", "2 line(s)", [(6, "not an amount"), (10, "amount is missing")]),
    ("broken/bad_transaction.ofx", "1 line(s)", [(47, "amount")]),
    ("broken/truncated.ofx", "incomplete", []),
    ("broken/empty.csv", "empty", []),
    ("broken/whitespace_only.csv", "empty", []),
    ("broken/binary.dat", "binary", []),
    ("broken/statement.pdf", "PDF", []),
    ("broken/utf16.csv", "UTF-16", []),
    ("broken/prose.txt", "", []),
]


@pytest.mark.parametrize(("name", "words", "lines"), CORPUS, ids=[c[0].split("/")[1] for c in CORPUS])
def test_a_broken_file_fails_whole_with_its_bad_lines(conn, owner, checking, run_import, name, words, lines):
    record = run_import(owner["id"], checking, name)

    assert record["status"] == "failed"
    assert words in record["error_message"]
    assert [e["line"] for e in record["errors"]] == [line for line, _ in lines]
    for error, (_, word) in zip(record["errors"], lines, strict=True):
        assert word in error["message"]
    assert record["transactions_added"] == 0 and record["completed_at"] is not None
    assert transactions_of(conn, checking) == []
    assert balance_of(conn, checking) == Decimal("100.00")


def test_good_rows_of_a_partly_broken_file_are_not_written(conn, owner, checking, run_import):
    record = run_import(owner["id"], checking, "broken/bad_dates.csv")

    assert record["status"] == "failed"
    # Lines 2 and 4 were fine; the file is refused as a whole all the same.
    assert transactions_of(conn, checking) == []


def test_the_owner_is_told_of_a_failure_and_the_failure_is_audited(conn, owner, checking, run_import):
    record = run_import(owner["id"], checking, "broken/bad_dates.csv")

    note = conn.execute("SELECT * FROM notifications WHERE user_id = %s", (owner["id"],)).fetchone()
    assert note["type"] == "system" and "bad_dates.csv" in note["message"]
    assert note["data"]["import_id"] == str(record["id"])
    audit = conn.execute("SELECT * FROM audit_logs WHERE resource_id = %s", (record["id"],)).fetchone()
    assert (audit["action"], audit["resource_type"], audit["success"]) == ("import.failed", "import", False)


def test_a_failed_file_is_not_retried(conn, owner, checking, drop, deliver):
    event = drop(f"imports/{owner['id']}/{checking}/x/bad.csv", fixture_bytes("broken/bad_dates.csv"))

    deliver(event)
    deliver(event)

    assert conn.execute("SELECT count(*) AS n FROM data_sync_logs").fetchone()["n"] == 1
    assert conn.execute("SELECT count(*) AS n FROM notifications").fetchone()["n"] == 1


def test_an_oversized_file_fails_without_being_read(conn, owner, checking, run_import, monkeypatch):
    small = get_settings().model_copy(update={"import_max_bytes": 64})
    monkeypatch.setattr("chalicelib.imports.processing.get_settings", lambda: small)

    record = run_import(owner["id"], checking, "us_chase_checking.csv")

    assert record["status"] == "failed"
    assert "files up to" in record["error_message"]
    assert transactions_of(conn, checking) == []


def test_every_bad_line_is_counted_even_past_the_listing_limit(conn, owner, checking, run_import, monkeypatch):
    small = get_settings().model_copy(update={"import_max_listed_errors": 3})
    monkeypatch.setattr("chalicelib.imports.processing.get_settings", lambda: small)
    data = "Date,Description,Amount\n" + "".join(f"2024-01-0{d},Item,abc\n" for d in range(1, 8))

    record = run_import(owner["id"], checking, "many.csv", data.encode())

    assert [e["line"] for e in record["errors"]] == [2, 3, 4]
    assert "7 line(s)" in record["error_message"] and "first 3 of 7" in record["error_message"]


def test_a_savings_account_is_not_taken_below_zero_and_nothing_is_written(conn, owner, run_import):
    from tests.factories import make_account

    savings = make_account(conn, owner["id"], type="savings", opening_balance="10.00")
    data = b"Date,Description,Amount\n2024-01-05,Deposit,5.00\n2024-01-06,Withdrawal,-50.00\n"

    record = run_import(owner["id"], savings, "s.csv", data)

    assert record["status"] == "failed" and "below zero" in record["error_message"]
    assert transactions_of(conn, savings) == []
    assert balance_of(conn, savings) == Decimal("10.00")
