"""The XLSX workbook, opened with openpyxl: cell types, formats, sheets and totals."""

import io
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from chalicelib.exports import totals as export_totals
from chalicelib.exports.report_repo import ExportScope
from chalicelib.families.access import load_access
from chalicelib.infra import db
from tests.exports.helpers import download, run_export

HEADER = [
    "date",
    "posted_date",
    "account",
    "category",
    "description",
    "merchant",
    "amount",
    "currency",
    "status",
    "tags",
    "notes",
    "external_id",
]


@pytest.fixture
def workbook(client, ledger):
    export = run_export(client, ledger.user, format="xlsx")
    assert export["file_name"] == "analytics_2024-01-01_2024-03-31.xlsx"
    data = download(export)
    assert export["size_bytes"] == len(data) and export["rows"] == 10
    return openpyxl.load_workbook(io.BytesIO(data))


def test_transactions_sheet_holds_the_header_then_one_row_per_transaction(workbook, conn, ledger):
    sheet = workbook["Transactions"]
    rows = list(sheet.iter_rows(values_only=True))

    assert workbook.sheetnames == ["Transactions", "By category", "By month"]
    assert list(rows[0]) == HEADER
    assert len(rows) == 11
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["E"].width >= 30
    expected = conn.execute(
        """SELECT sum(amount) AS total FROM transactions
            WHERE user_id = %s AND transaction_date BETWEEN '2024-01-01' AND '2024-03-31'""",
        (ledger.user["id"],),
    ).fetchone()["total"]
    assert sum(Decimal(str(r[6])) for r in rows[1:]) == expected


def test_cells_have_the_right_types_and_formats(workbook):
    sheet = workbook["Transactions"]
    cells = {row[4].value: row for row in sheet.iter_rows(min_row=2)}

    shop = cells["Weekly shop"]
    assert isinstance(shop[0].value, datetime) and shop[0].is_date and shop[0].number_format == "yyyy-mm-dd"
    assert shop[0].value.date() == date(2024, 1, 5) and shop[1].value.date() == date(2024, 1, 6)
    assert shop[6].data_type == "n" and shop[6].value == pytest.approx(-42.10)
    assert shop[6].number_format == "#,##0.00"
    assert shop[3].value == "Food & Dining > Groceries"
    # Text is never a formula or an error value, and keeps its exact characters.
    formula = cells['=HYPERLINK("http://x")']
    assert formula[4].data_type == "s" and formula[4].value == '=HYPERLINK("http://x")'
    assert formula[2].data_type == "s" and formula[2].value == "=Card"
    assert shop[11].data_type == "s" and shop[11].value.startswith("=ext-")
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert cells["-minus first"][9].value == "-x, y"


def _totals(ledger) -> export_totals.ReportTotals:
    with db.transaction() as conn:
        scope = ExportScope(
            access=load_access(conn, ledger.user["id"]), date_from=date(2024, 1, 1), date_to=date(2024, 3, 31)
        )
        return export_totals.spending_totals(conn, scope)


def test_by_category_sheet_equals_the_analytics_totals(workbook, ledger):
    sheet = workbook["By category"]
    rows = list(sheet.iter_rows(values_only=True))
    items = {r[0]: (r[1], r[2], Decimal(str(r[3]))) for r in rows[1:-2]}
    sums = _totals(ledger)

    assert rows[0] == ("Category", "Top-level category", "Transactions", "Spending")
    assert sheet.freeze_panes == "A2"
    # Groceries: 42.10 out, 12.00 refunded; the cancelled 500.00 is ignored.
    assert items["Food & Dining > Groceries"] == ("Food & Dining", 2, Decimal("30.10"))
    assert items["Food & Dining > Restaurants"] == ("Food & Dining", 2, Decimal("79.75"))
    assert items["Food & Dining"] == ("Food & Dining", 1, Decimal("7.35"))
    assert items["Uncategorized"] == ("Uncategorized", 1, Decimal("99.99"))
    assert items["Transfers"] == ("Transfers", 1, Decimal("250.00"))
    assert "Income > Salary" not in items
    assert rows[-1][0] == "Total" and Decimal(str(rows[-1][3])) == sums.spending == Decimal("467.19")
    assert {k: v[2] for k, v in items.items()} == {g.label: g.amount for g in sums.by_category}
    assert sheet.cell(2, 4).number_format == "#,##0.00"


def test_by_month_sheet_equals_the_analytics_totals(workbook, ledger):
    rows = list(workbook["By month"].iter_rows(values_only=True))
    sums = _totals(ledger)

    assert rows[0] == ("Month", "Income", "Spending", "Net", "Transactions")
    months = {r[0]: tuple(Decimal(str(v)) for v in r[1:4]) for r in rows[1:-2]}
    assert months == {
        "2024-01": (Decimal("3000.00"), Decimal("48.60"), Decimal("2951.40")),
        "2024-02": (Decimal("3000.00"), Decimal("161.24"), Decimal("2838.76")),
        "2024-03": (Decimal("0.00"), Decimal("257.35"), Decimal("-257.35")),
    }
    assert rows[-1][0] == "Total"
    assert (Decimal(str(rows[-1][1])), Decimal(str(rows[-1][2]))) == (sums.income, sums.spending)
    assert [m.month for m in sums.by_month] == list(months)
