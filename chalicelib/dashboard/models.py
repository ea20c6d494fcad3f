"""Response model of GET /dashboard (API.md "Dashboard")."""

from datetime import date
from typing import Literal
from uuid import UUID

from chalicelib.core.types import Money, ResponseModel


class TopCategory(ResponseModel):
    category_id: UUID
    name: str
    amount: Money


class BudgetSummary(ResponseModel):
    budget_id: UUID
    name: str
    state: Literal["ok", "warning", "exceeded"]
    percent_used: float


class DashboardOut(ResponseModel):
    date: date
    spent_today: Money
    spent_month_to_date: Money
    income_month_to_date: Money
    top_categories: list[TopCategory]
    budgets: list[BudgetSummary]
    unread_notifications: int


class LiveFigures(ResponseModel):
    """dashboard.updated (API.md "Live updates"): GET /dashboard's spent_today and budgets."""

    date: date
    spending_today: Money
    budget_status: list[BudgetSummary]
