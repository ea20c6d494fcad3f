"""GET /dashboard: how the caller is doing today, this month and against their budgets.

Kept in the API response cache (core/caching.py, area `dashboard`): every write that
changes a figure (transactions, accounts, categories, budgets, goals, notifications)
bumps the generation of everyone who sees it, so the next call misses and recomputes.
The caller's date is part of the key, so a cached dashboard never outlives the caller's
midnight."""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from chalicelib.budgets.service import WORST, line_state, percent
from chalicelib.core.caching import read_through
from chalicelib.core.dates import local_today, user_timezone, user_timezones
from chalicelib.dashboard import repo
from chalicelib.dashboard.models import BudgetSummary, DashboardOut, LiveFigures, TopCategory
from chalicelib.families.access import load_access
from chalicelib.infra import db
from chalicelib.notifications.service import unread_count


def get_dashboard(*, user_id: UUID) -> DashboardOut:
    """The caller's dashboard, from the cache when nothing changed since it was built."""
    with db.transaction() as conn:
        today = local_today(user_timezone(conn, user_id))
        answer = read_through(
            "dashboard",
            user_id=user_id,
            params={"date": today.isoformat()},
            compute=lambda: _build(conn, user_id=user_id, today=today).model_dump(mode="json"),
        )
    return DashboardOut.model_validate(answer)


def live_figures_of(*, user_ids: Iterable[UUID]) -> dict[UUID, LiveFigures]:
    """What dashboard.updated carries to each of these users: the same spent_today and
    budgets as their GET /dashboard (the same statements, run once for all of them)."""
    with db.transaction() as conn:
        days = {user_id: local_today(tz) for user_id, tz in user_timezones(conn, sorted(set(user_ids))).items()}
        figures = _month_and_budgets(conn, days)
    return {
        user_id: LiveFigures(date=days[user_id], spending_today=_spending(month["spent_today"]), budget_status=budgets)
        for user_id, (month, budgets) in figures.items()
    }


def _spending(amount: Decimal) -> Decimal:
    return max(amount, Decimal("0.00"))


def _month_and_budgets(conn, days: dict[UUID, date]) -> dict[UUID, tuple[dict[str, Any], list[BudgetSummary]]]:
    """Each reader's month figures and budget summaries: the one home of the figures that
    GET /dashboard shows and dashboard.updated pushes."""
    months = repo.month_figures_of(conn, days)
    lines = repo.budget_lines_of(conn, days)
    return {user_id: (months[user_id], _summaries(lines[user_id])) for user_id in days}


def _build(conn, *, user_id: UUID, today: date) -> DashboardOut:
    access = load_access(conn, user_id)
    figures, budgets = _month_and_budgets(conn, {user_id: today})[user_id]
    return DashboardOut(
        date=today,
        spent_today=_spending(figures["spent_today"]),
        spent_month_to_date=_spending(figures["spent_month"]),
        income_month_to_date=figures["income_month"],
        top_categories=[TopCategory.model_validate(r) for r in repo.top_categories(conn, access, today)],
        budgets=budgets,
        unread_notifications=unread_count(user_id=user_id),
    )


def _summaries(lines: list[dict[str, Any]]) -> list[BudgetSummary]:
    """One entry per budget: the worst state of its categories, percent of the total used."""
    budgets: dict[UUID, dict[str, Any]] = {}
    for line in lines:
        entry = budgets.setdefault(
            line["budget_id"],
            {"name": line["budget_name"], "state": "ok", "spent": Decimal(0), "allocated": Decimal(0)},
        )
        if line["category_id"] is None:
            continue
        state = line_state(spent=line["spent"], allocated=line["allocated_amount"], threshold=line["alert_threshold"])
        if WORST[state] > WORST[entry["state"]]:
            entry["state"] = state
        entry["spent"] += line["spent"]
        entry["allocated"] += line["allocated_amount"]
    ordered = sorted(budgets.items(), key=lambda kv: (-WORST[kv[1]["state"]], kv[1]["name"], str(kv[0])))
    return [
        BudgetSummary(
            budget_id=budget_id, name=e["name"], state=e["state"], percent_used=percent(e["spent"], e["allocated"])
        )
        for budget_id, e in ordered
    ]
