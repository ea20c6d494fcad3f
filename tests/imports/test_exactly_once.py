"""Duplicates: the same object delivered again (also concurrently) writes nothing new; the
same transactions in another file are skipped by external id or by fingerprint, counted
with multiplicity."""

import threading
from datetime import date
from decimal import Decimal

from tests.factories import make_transaction
from tests.imports.conftest import balance_of, fixture_bytes, transactions_of


def test_concurrent_deliveries_of_one_object_write_its_rows_once(conn, owner, checking, drop, deliver):
    event = drop(f"imports/{owner['id']}/{checking}/i1/chase.csv", fixture_bytes("us_chase_checking.csv"))
    barrier = threading.Barrier(4)
    failures = []

    def worker():
        barrier.wait()
        try:
            deliver(event)
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    assert len(transactions_of(conn, checking)) == 4
    assert balance_of(conn, checking) == Decimal("1938.50")
    assert conn.execute("SELECT count(*) AS n FROM data_sync_logs").fetchone()["n"] == 1
    assert conn.execute("SELECT count(*) AS n FROM processed_events").fetchone()["n"] == 1
    assert conn.execute("SELECT count(*) AS n FROM notifications").fetchone()["n"] == 1


def test_a_redelivered_event_is_a_no_op(conn, owner, checking, drop, deliver):
    event = drop(f"imports/{owner['id']}/{checking}/i1/chase.csv", fixture_bytes("us_chase_checking.csv"))

    deliver(event)
    deliver(event)

    rows = transactions_of(conn, checking)
    assert len(rows) == 4
    # The import's rows are queued for the search index once, as one set (sql/1321).
    (queued,) = conn.execute("SELECT aggregate_type, aggregate_id, aggregate_ids FROM outbox").fetchall()
    assert queued["aggregate_type"] == "transaction_set"
    assert queued["aggregate_id"] == rows[0]["import_id"]
    assert sorted(queued["aggregate_ids"]) == sorted(r["id"] for r in rows)


def test_identical_rows_in_one_file_are_both_kept_and_a_second_import_adds_neither(conn, owner, checking, run_import):
    first = run_import(owner["id"], checking, "us_chase_checking.csv")
    second = run_import(owner["id"], checking, "us_chase_checking.csv")

    assert (first["transactions_added"], first["duplicates_skipped"]) == (4, 0)
    assert (second["status"], second["transactions_added"], second["duplicates_skipped"]) == ("completed", 0, 4)
    coffees = [r for r in transactions_of(conn, checking) if r["description"].startswith("STARBUCKS")]
    assert len(coffees) == 2
    assert balance_of(conn, checking) == Decimal("1938.50")


def test_fingerprints_count_with_multiplicity(conn, owner, checking, run_import):
    make_transaction(
        conn, owner["id"], checking, "-5.75", day=date(2024, 1, 16), description="Starbucks store 1234 Seattle WA"
    )

    record = run_import(owner["id"], checking, "us_chase_checking.csv")

    # One of the two coffees was already there (case and spacing do not matter): one is new.
    assert (record["transactions_added"], record["duplicates_skipped"]) == (3, 1)
    coffees = [r for r in transactions_of(conn, checking) if r["amount"] == Decimal("-5.75")]
    assert len(coffees) == 2


def test_external_ids_decide_duplicates_and_new_ones_are_added(conn, owner, checking, run_import):
    original = fixture_bytes("ofx_sgml_checking_cp1252.ofx")
    extended = original.replace(
        b"</BANKTRANLIST>",
        b"<STMTTRN>\r\n<TRNTYPE>DEBIT\r\n<DTPOSTED>20240125\r\n<TRNAMT>-12.50\r\n<FITID>202401250004\r\n"
        b"<NAME>Caf\xe9 Ol\xe9 Cr\xeaperie\r\n</STMTTRN>\r\n</BANKTRANLIST>",
    )

    run_import(owner["id"], checking, "jan.ofx", original)
    record = run_import(owner["id"], checking, "jan-again.ofx", extended)

    assert (record["transactions_added"], record["duplicates_skipped"]) == (1, 3)
    assert len(transactions_of(conn, checking)) == 4


def test_the_same_statement_as_csv_after_ofx_is_recognized_by_fingerprint(conn, owner, checking, run_import):
    run_import(owner["id"], checking, "ofx_sgml_checking_cp1252.ofx")
    csv = b"Date,Description,Amount\n2024-01-15,ACME PAYROLL,1800.00\n2024-01-31,New one,-1.00\n"

    record = run_import(owner["id"], checking, "jan.csv", csv)

    assert (record["transactions_added"], record["duplicates_skipped"]) == (1, 1)


def test_a_reupload_with_new_content_is_a_new_import(conn, owner, checking, drop, deliver):
    key = f"imports/{owner['id']}/{checking}/i1/chase.csv"
    deliver(drop(key, fixture_bytes("us_chase_checking.csv")))
    deliver(drop(key, fixture_bytes("us_chase_checking.csv") + b"DEBIT,01/21/2024,NEW,-1.00,DEBIT_CARD,0,,\r\n"))

    logs = conn.execute("SELECT * FROM data_sync_logs ORDER BY created_at").fetchall()
    assert [(r["transactions_added"], r["duplicates_skipped"]) for r in logs] == [(4, 0), (1, 4)]


def test_budget_alerts_are_decided_with_the_import(conn, owner, checking, run_import):
    from tests.factories import default_category

    coffee = default_category(conn, "Coffee Shops", "Food & Dining")
    today = date.today()
    budget = conn.execute(
        """INSERT INTO budgets (user_id, name, period_type, start_date, total_amount)
           VALUES (%s, 'Coffee', 'monthly', %s, 10.00) RETURNING id""",
        (owner["id"], today.replace(day=1)),
    ).fetchone()["id"]
    conn.execute(
        "INSERT INTO budget_categories (budget_id, category_id, allocated_amount) VALUES (%s, %s, 10.00)",
        (budget, coffee),
    )

    run_import(owner["id"], checking, "c.csv", f"Date,Description,Amount\n{today},STARBUCKS 12,-12.00\n".encode())

    alerts = conn.execute("SELECT * FROM notifications WHERE type = 'budget_alert'").fetchall()
    assert len(alerts) >= 1 and {a["user_id"] for a in alerts} == {owner["id"]}
