"""The CSV file, read back: header, exact sums, category paths, neutralized text."""

import csv
import io
from decimal import Decimal

from tests.exports.helpers import download, run_export
from tests.factories import make_account, make_family, make_transaction

HEADER = "date,posted_date,account,category,description,merchant,amount,currency,status,tags,notes,external_id"


def _parse(data: bytes) -> list[dict]:
    text = data.decode("utf-8")
    assert text.splitlines()[0] == HEADER
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_has_every_transaction_of_the_period_with_exact_amounts(client, ledger, conn):
    export = run_export(client, ledger.user, format="csv")

    rows = _parse(download(export))
    expected = conn.execute(
        """SELECT count(*) AS n, sum(amount) AS total FROM transactions
            WHERE user_id = %s AND transaction_date BETWEEN '2024-01-01' AND '2024-03-31'""",
        (ledger.user["id"],),
    ).fetchone()
    assert len(rows) == expected["n"] == 10
    assert sum(Decimal(r["amount"]) for r in rows) == expected["total"]
    assert export["rows"] == 10
    assert export["size_bytes"] == len(download(export))
    assert export["file_name"] == "transactions_2024-01-01_2024-03-31.csv"
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)


def test_csv_cells_are_formatted_as_the_contract_says(client, ledger):
    rows = _parse(download(run_export(client, ledger.user, format="csv")))
    by_desc = {r["description"]: r for r in rows}

    shop = by_desc["Weekly shop"]
    assert shop["category"] == "Food & Dining > Groceries"
    assert shop["amount"] == "-42.10"
    assert (shop["date"], shop["posted_date"]) == ("2024-01-05", "2024-01-06")
    assert shop["external_id"].startswith("'=ext-")
    assert shop["tags"] == "home"
    assert (shop["account"], shop["currency"], shop["status"]) == ("Main Checking", "USD", "posted")
    assert by_desc["Salary January"]["amount"] == "3000.00"
    assert by_desc["Salary January"]["category"] == "Income > Salary"
    assert by_desc["Bakery"]["category"] == "Food & Dining"
    assert by_desc["Bakery"]["posted_date"] == ""


def test_csv_neutralizes_formula_text_and_only_text(client, ledger):
    rows = _parse(download(run_export(client, ledger.user, format="csv")))
    by_amount = {r["amount"]: r for r in rows}

    bistro = by_amount["-18.50"]
    assert bistro["description"] == '\'=HYPERLINK("http://x")'
    assert bistro["merchant"] == "'+Bistro"
    assert bistro["notes"] == "'@note"
    assert bistro["account"] == "'=Card"
    minus = by_amount["-99.99"]
    assert minus["description"] == "'-minus first"
    assert minus["merchant"] == "'\tTabbed"
    assert minus["tags"] == "'-x, y"
    assert minus["notes"] == "'\rcr"
    assert minus["category"] == ""
    # Amounts stay plain numbers even when negative: the prefix is for text only.
    assert all(not r["amount"].startswith("'") and Decimal(r["amount"]) for r in rows)
    assert by_amount["-61.25"]["description"] == 'Dinner "for two"\nsecond line'
    assert by_amount["-61.25"]["merchant"] == "Chez Ünïcode €"


def test_csv_of_one_account(client, ledger):
    rows = _parse(download(run_export(client, ledger.user, format="csv", account_id=str(ledger.card))))

    assert {r["account"] for r in rows} == {"'=Card"}
    assert sorted(r["amount"] for r in rows) == ["-18.50", "-61.25"]


def test_family_export_has_the_family_transactions_the_caller_may_read(client, ledger, conn, make_user):
    partner = make_user()
    family = make_family(conn, partner["id"], members={ledger.user["id"]: "viewer"})
    shared = make_account(conn, partner["id"], name="Household", family_id=family)
    partner_own = make_account(conn, partner["id"], name="Partner private")
    make_transaction(conn, partner["id"], shared, "-80.00", day=__import__("datetime").date(2024, 2, 10))
    make_transaction(conn, partner["id"], partner_own, "-5.00", day=__import__("datetime").date(2024, 2, 10))

    family_rows = _parse(download(run_export(client, ledger.user, format="csv", family_id=str(family))))
    all_rows = _parse(download(run_export(client, ledger.user, format="csv")))

    assert [(r["account"], r["amount"]) for r in family_rows] == [("Household", "-80.00")]
    assert "Household" in {r["account"] for r in all_rows}
    assert "Partner private" not in {r["account"] for r in all_rows}


def test_archived_transactions_are_included_only_when_asked(client, ledger, conn):
    conn.execute(
        """INSERT INTO transactions_archive (id, user_id, account_id, category_id, amount, currency, description,
                                             transaction_date, status)
           VALUES (gen_random_uuid(), %s, %s, %s, -33.33, 'USD', 'Archived purchase', '2024-01-15', 'posted')""",
        (ledger.user["id"], ledger.checking, ledger.groceries),
    )

    live = _parse(download(run_export(client, ledger.user, format="csv")))
    with_archive = _parse(download(run_export(client, ledger.user, format="csv", include_archived=True)))

    assert "Archived purchase" not in {r["description"] for r in live}
    archived = [r for r in with_archive if r["description"] == "Archived purchase"]
    assert len(with_archive) == len(live) + 1
    assert archived[0]["category"] == "Food & Dining > Groceries" and archived[0]["amount"] == "-33.33"
