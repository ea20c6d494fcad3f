"""The XLSX export (API.md "Exports"), written with openpyxl in write-only mode so rows
stream to disk instead of building a workbook in memory.

Sheets: `Transactions` (header row, then one row per transaction and nothing else),
`By category` and `By month` (the analytics totals). Amounts are numeric cells with a
two-decimal format, dates are date cells, and text is always a string cell: openpyxl
would otherwise store text starting with "=" as a formula and "#N/A" as an error.
"""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from chalicelib.exports.columns import HEADER
from chalicelib.exports.totals import ReportTotals

MONEY_FORMAT = "#,##0.00"
# Excel refuses longer cells.
MAX_CELL_CHARS = 32767
TRANSACTION_WIDTHS = (11, 11, 20, 32, 40, 24, 13, 9, 10, 20, 30, 20)
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE3EA")


def _clean_text(value: str) -> str:
    # XML 1.0 cannot carry most control characters; openpyxl raises on them mid-row.
    if ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return value[:MAX_CELL_CHARS]


class _Cells:
    """Cell factory for one write-only sheet."""

    def __init__(self, sheet):
        self.sheet = sheet
        # openpyxl serializes each appended row before append() returns, so one styled
        # cell per money column can be reused: a new cell and style lookup per amount
        # cost about a tenth of the XLSX export's time.
        self._money = WriteOnlyCell(sheet)
        self._money.number_format = MONEY_FORMAT

    def text(self, value: str | None) -> Any:
        if value is None or value == "":
            return None
        value = _clean_text(value)
        if (len(value) > 1 and value.startswith("=")) or value in ERROR_CODES:
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.data_type = "s"
            return cell
        return value

    def money(self, value: Decimal) -> WriteOnlyCell:
        self._money.value = value
        return self._money

    def money_new(self, value: Decimal, *, bold: bool = False) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet, value=value)
        cell.number_format = MONEY_FORMAT
        if bold:
            cell.font = _HEADER_FONT
        return cell

    def header(self, titles: Iterable[str]) -> list[WriteOnlyCell]:
        cells = []
        for title in titles:
            cell = WriteOnlyCell(self.sheet, value=title)
            cell.font = _HEADER_FONT
            cell.fill = _HEADER_FILL
            cell.alignment = Alignment(vertical="center")
            cells.append(cell)
        return cells

    def bold(self, value: Any) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet, value=value)
        cell.font = _HEADER_FONT
        return cell


def _sheet(workbook: Workbook, title: str, widths: Iterable[int]):
    sheet = workbook.create_sheet(title)
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    return sheet


def _transactions_sheet(workbook: Workbook, rows: Iterable[tuple]) -> int:
    sheet = _sheet(workbook, "Transactions", TRANSACTION_WIDTHS)
    cells = _Cells(sheet)
    sheet.append(cells.header(HEADER))
    count = 0
    text = cells.text
    for date_, posted, account, category, description, merchant, amount, currency, status, tags, notes, ext in rows:
        sheet.append(
            [
                date_,
                posted,
                text(account),
                text(category),
                text(description),
                text(merchant),
                cells.money(amount),
                text(currency),
                text(status),
                text(tags),
                text(notes),
                text(ext),
            ]
        )
        count += 1
    return count


def _by_category_sheet(workbook: Workbook, totals: ReportTotals) -> None:
    sheet = _sheet(workbook, "By category", (40, 24, 14, 16))
    cells = _Cells(sheet)
    sheet.append(cells.header(("Category", "Top-level category", "Transactions", "Spending")))
    for group in totals.by_category:
        sheet.append([cells.text(group.label), cells.text(group.parent_label), group.count, cells.money(group.amount)])
    sheet.append([])
    count = sum(g.count for g in totals.by_category)
    sheet.append([cells.bold("Total"), None, count, cells.money_new(totals.spending, bold=True)])


def _by_month_sheet(workbook: Workbook, totals: ReportTotals) -> None:
    sheet = _sheet(workbook, "By month", (10, 16, 16, 16, 14))
    cells = _Cells(sheet)
    sheet.append(cells.header(("Month", "Income", "Spending", "Net", "Transactions")))
    for month in totals.by_month:
        sheet.append(
            [
                month.month,
                cells.money_new(month.income),
                cells.money_new(month.spending),
                cells.money_new(month.net),
                month.count,
            ]
        )
    sheet.append([])
    sheet.append(
        [
            cells.bold("Total"),
            cells.money_new(totals.income, bold=True),
            cells.money_new(totals.spending, bold=True),
            cells.money_new(totals.net, bold=True),
            totals.count,
        ]
    )


def write_xlsx(
    target,
    *,
    rows: Iterable[tuple],
    totals: ReportTotals,
) -> int:
    """Write the workbook to `target` (a path or binary file); returns the transaction rows written."""
    workbook = Workbook(write_only=True)
    count = _transactions_sheet(workbook, rows)
    _by_category_sheet(workbook, totals)
    _by_month_sheet(workbook, totals)
    workbook.save(target)
    return count
