"""Response model of GET /recurring."""

from datetime import date
from uuid import UUID

from chalicelib.core.types import Money, ResponseModel


class RecurringOut(ResponseModel):
    merchant: str
    amount: Money  # the typical payment, negative like the transactions it stands for
    currency: str | None
    account_id: UUID
    category_id: UUID | None
    usual_day: int
    occurrences: int
    last_date: date
    next_due_date: date


class RecurringList(ResponseModel):
    items: list[RecurringOut]
