"""The numbers the XLSX and PDF show: spending by category and by month, income, net,
top merchants, and each budget's state per period.

These follow API.md's definitions ("Analytics" and "Budgets"); the SQL is in
report_repo. Where chalicelib/analytics and chalicelib/budgets grow services for the
same numbers, these functions are the ones to hand over to them.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

import psycopg
from psycopg import sql

from chalicelib.budgets.periods import period_containing
from chalicelib.budgets.service import line_state
from chalicelib.exports import report_repo
from chalicelib.exports.report_repo import ExportScope

ZERO = Decimal("0.00")
UNCATEGORIZED = "Uncategorized"
TOP_MERCHANTS = 10


@dataclass(frozen=True)
class Group:
    key: str | None  # category id, or YYYY-MM for months
    label: str
    amount: Decimal
    count: int
    parent_label: str | None = None


@dataclass(frozen=True)
class MonthTotals:
    month: str
    income: Decimal
    spending: Decimal
    count: int

    @property
    def net(self) -> Decimal:
        return self.income - self.spending


@dataclass
class ReportTotals:
    income: Decimal = ZERO
    spending: Decimal = ZERO
    count: int = 0
    by_category: list[Group] = field(default_factory=list)
    by_top_category: list[Group] = field(default_factory=list)
    by_month: list[MonthTotals] = field(default_factory=list)
    top_merchants: list[Group] = field(default_factory=list)

    @property
    def net(self) -> Decimal:
        return self.income - self.spending


def _ordered(groups: dict, labels: dict, parents: dict | None = None) -> list[Group]:
    items = [
        Group(
            key=str(key) if key else None,
            label=labels[key],
            amount=amount,
            count=count,
            parent_label=(parents or {}).get(key),
        )
        for key, (amount, count) in groups.items()
    ]
    return sorted(items, key=lambda g: (-g.amount, g.label))


def spending_totals(conn: psycopg.Connection, scope: ExportScope) -> ReportTotals:
    """Income, spending (outflows minus refunds) and their breakdowns for the scope."""
    paths = report_repo.category_paths(conn, scope)
    cells = report_repo.spending_cells(conn, scope)
    totals = ReportTotals()
    by_cat: dict = defaultdict(lambda: [ZERO, 0])
    by_top: dict = defaultdict(lambda: [ZERO, 0])
    by_month: dict = defaultdict(lambda: [ZERO, ZERO, 0])
    labels: dict = {None: UNCATEGORIZED}
    parents: dict = {None: UNCATEGORIZED}
    for cell in cells:
        totals.income += cell.income
        totals.count += cell.count
        month = by_month[cell.month]
        month[0] += cell.income
        month[2] += cell.count
        if not cell.spending_count:
            continue
        totals.spending += cell.spending
        month[1] += cell.spending
        info = paths.get(cell.category_id) if cell.category_id else None
        top_key = info.top_id if info else None
        if info:
            labels[cell.category_id] = info.path
            labels[top_key] = info.top_name
            parents[cell.category_id] = info.top_name
        for target, key in ((by_cat, cell.category_id), (by_top, top_key)):
            target[key][0] += cell.spending
            target[key][1] += cell.spending_count
    totals.by_category = _ordered(by_cat, labels, parents)
    totals.by_top_category = _ordered(by_top, labels)
    totals.by_month = [
        MonthTotals(month=m, income=v[0], spending=v[1], count=v[2]) for m, v in sorted(by_month.items())
    ]
    totals.top_merchants = [
        Group(key=r["merchant"], label=r["merchant"], amount=r["amount"], count=r["count"])
        for r in report_repo.spending_by_merchant(conn, scope, limit=TOP_MERCHANTS)
    ]
    return totals


# --- budgets ---------------------------------------------------------------------


def budget_periods(
    *, period_type: str, start_date: date, end_date: date | None, date_from: date, date_to: date
) -> list[tuple[date, date]]:
    """The budget's periods (chalicelib/budgets' rule) that overlap [date_from, date_to]."""
    periods = []
    day = max(date_from, start_date)
    while day <= date_to:
        period = period_containing(period_type=period_type, start_date=start_date, end_date=end_date, on=day)
        if period is None:
            break
        periods.append((period.start, period.end))
        day = period.end + timedelta(days=1)
    return periods


@dataclass(frozen=True)
class BudgetLine:
    category_id: UUID
    category: str
    period_start: date
    period_end: date
    allocated: Decimal
    spent: Decimal
    alert_threshold: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.allocated - self.spent

    @property
    def percent_used(self) -> Decimal:
        return (self.spent * 100 / self.allocated).quantize(Decimal("0.01"))

    @property
    def state(self) -> str:
        return line_state(spent=self.spent, allocated=self.allocated, threshold=self.alert_threshold)


@dataclass(frozen=True)
class BudgetReport:
    id: UUID
    name: str
    period_type: str
    currency: str
    lines: list[BudgetLine]


def _budget_owner(scope: ExportScope, account: dict | None) -> sql.Composable:
    if scope.family_id is not None:
        return scope.access.in_family(scope.family_id, "b")
    if account is not None:
        if account["family_id"] is not None:
            return scope.access.in_family(account["family_id"], "b")
        return scope.access.personal("b")
    return scope.access.visible("b")


def budget_statuses(conn: psycopg.Connection, scope: ExportScope) -> list[BudgetReport]:
    """Every budget of the scope active in the period, its categories' allocated, spent
    and state for each of its periods that overlap the report's."""
    account = report_repo.account_of(conn, scope.account_id) if scope.account_id else None
    budgets = report_repo.budgets_in_period(conn, scope, owner=_budget_owner(scope, account))
    wanted: list[tuple[UUID, UUID, date, date]] = []
    plans = []
    for b in budgets:
        periods = budget_periods(
            period_type=b["period_type"],
            start_date=b["start_date"],
            end_date=b["end_date"],
            date_from=scope.date_from,
            date_to=scope.date_to,
        )
        plans.append((b, periods))
        wanted += [(b["id"], UUID(c["category_id"]), s, e) for s, e in periods for c in b["categories"]]
    spent = report_repo.budget_spent(conn, include_archived=scope.include_archived, periods=wanted)
    labels = report_repo.category_labels(conn, list({w[1] for w in wanted}))
    reports = []
    for b, periods in plans:
        lines = [
            BudgetLine(
                category_id=UUID(c["category_id"]),
                category=labels.get(UUID(c["category_id"]), "?"),
                period_start=s,
                period_end=e,
                allocated=Decimal(c["allocated_amount"]),
                spent=spent.get((b["id"], UUID(c["category_id"]), s), ZERO),
                alert_threshold=Decimal(c["alert_threshold"] or "0.80"),
            )
            for s, e in periods
            for c in b["categories"]
        ]
        reports.append(
            BudgetReport(id=b["id"], name=b["name"], period_type=b["period_type"], currency=b["currency"], lines=lines)
        )
    return reports
