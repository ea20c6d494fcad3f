"""One definition of spending: the totals in the XLSX and PDF equal what the analytics
and budget-status routes answer for the same period and scope."""

import io
import json
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from chalicelib.exports import totals as export_totals
from chalicelib.exports.report_repo import ExportScope
from chalicelib.families.access import load_access
from chalicelib.infra import db
from tests.exports.helpers import download, run_export

pytest.importorskip("chalicelib.analytics.routes")
PERIOD = "from=2024-01-01&to=2024-03-31"


def _get(client, user, path):
    response = client.http.get(path, headers=user["headers"])
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def _ours(user) -> export_totals.ReportTotals:
    with db.transaction() as conn:
        scope = ExportScope(access=load_access(conn, user["id"]), date_from=date(2024, 1, 1), date_to=date(2024, 3, 31))
        return export_totals.spending_totals(conn, scope)


def test_spending_groups_equal_the_analytics_routes(client, ledger):
    ours = _ours(ledger.user)

    for group_by, mine in (("category", ours.by_category), ("top_category", ours.by_top_category)):
        theirs = _get(client, ledger.user, f"/analytics/spending?group_by={group_by}&{PERIOD}")
        assert {i["key"]: (Decimal(i["amount"]), i["count"]) for i in theirs["items"]} == {
            g.key: (g.amount, g.count) for g in mine
        }, group_by
        assert Decimal(theirs["total"]) == ours.spending
    months = _get(client, ledger.user, f"/analytics/spending?group_by=month&{PERIOD}")
    assert {i["key"]: Decimal(i["amount"]) for i in months["items"]} == {m.month: m.spending for m in ours.by_month}
    merchants = _get(client, ledger.user, f"/analytics/spending?group_by=merchant&{PERIOD}")
    assert [(m.key, m.amount) for m in ours.top_merchants] == [
        (i["key"], Decimal(i["amount"])) for i in merchants["items"] if i["key"] and Decimal(i["amount"]) > 0
    ][: export_totals.TOP_MERCHANTS]
    cashflow = _get(client, ledger.user, f"/analytics/cashflow?interval=month&{PERIOD}")
    assert {i["period_start"][:7]: Decimal(i["income"]) for i in cashflow["items"]} == {
        m.month: m.income for m in ours.by_month
    }


def test_xlsx_sheet_totals_equal_the_analytics_routes(client, ledger):
    workbook = openpyxl.load_workbook(io.BytesIO(download(run_export(client, ledger.user, format="xlsx"))))
    by_month = list(workbook["By month"].iter_rows(values_only=True))[1:-2]

    months = _get(client, ledger.user, f"/analytics/spending?group_by=month&{PERIOD}")
    total = _get(client, ledger.user, f"/analytics/spending?group_by=category&{PERIOD}")["total"]

    assert {r[0]: Decimal(str(r[2])).quantize(Decimal("0.01")) for r in by_month} == {
        i["key"]: Decimal(i["amount"]) for i in months["items"]
    }
    by_category_total = list(workbook["By category"].iter_rows(values_only=True))[-1][3]
    assert Decimal(str(by_category_total)).quantize(Decimal("0.01")) == Decimal(total)


def test_budget_lines_equal_the_budget_status_route(client, ledger, conn):
    budget = conn.execute(
        """INSERT INTO budgets (user_id, name, period_type, start_date, total_amount)
           VALUES (%s, 'Food', 'monthly', '2023-12-15', 150) RETURNING id""",
        (ledger.user["id"],),
    ).fetchone()["id"]
    conn.execute(
        "INSERT INTO budget_categories (budget_id, category_id, allocated_amount) VALUES (%s, %s, 60), (%s, %s, 40)",
        (budget, ledger.food, budget, ledger.restaurants),
    )
    with db.transaction() as tx:
        scope = ExportScope(
            access=load_access(tx, ledger.user["id"]), date_from=date(2024, 1, 1), date_to=date(2024, 3, 31)
        )
        [report] = export_totals.budget_statuses(tx, scope)

    for day in ("2024-01-01", "2024-01-20", "2024-02-20", "2024-03-20"):
        status = _get(client, ledger.user, f"/budgets/{budget}/status?date={day}")
        lines = {
            str(line.category_id): line
            for line in report.lines
            if line.period_start == date.fromisoformat(status["period_start"])
        }
        assert lines and all(line.period_end.isoformat() == status["period_end"] for line in lines.values())
        for item in status["categories"]:
            line = lines[item["category_id"]]
            assert (Decimal(item["spent_amount"]), item["state"]) == (line.spent, line.state), day
