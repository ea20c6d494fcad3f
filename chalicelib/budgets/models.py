"""Request and response models of /budgets (API.md "Budgets")."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema, field_validator

from chalicelib.core.types import Money, PageQuery, PositiveMoney, RequestModel, ResponseModel, Timestamp

PeriodType = Literal["monthly", "quarterly", "yearly", "custom"]
BudgetState = Literal["ok", "warning", "exceeded"]


def _fraction(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValueError("must be a number between 0 and 1")
    try:
        fraction = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except ArithmeticError:
        raise ValueError("must be a number between 0 and 1") from None
    if not fraction.is_finite() or not Decimal(0) <= fraction <= Decimal(1):
        raise ValueError("must be between 0 and 1")
    if fraction != fraction.quantize(Decimal("0.01")):
        raise ValueError("must have at most two decimals")
    return fraction.quantize(Decimal("0.01"))


# A fraction 0-1 stored as NUMERIC(3,2); sent as a JSON number.
Threshold = Annotated[
    Decimal,
    BeforeValidator(_fraction),
    PlainSerializer(float, return_type=float),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1, "example": 0.8}),
]


class BudgetCategoryIn(RequestModel):
    category_id: UUID
    allocated_amount: PositiveMoney
    alert_threshold: Threshold = Decimal("0.80")


def _unique_categories(lines: list[BudgetCategoryIn] | None) -> list[BudgetCategoryIn] | None:
    if lines is not None:
        seen = [line.category_id for line in lines]
        if len(seen) != len(set(seen)):
            raise ValueError("lists a category more than once")
    return lines


class _BudgetFields(RequestModel):
    @field_validator("categories", check_fields=False)
    @classmethod
    def _categories(cls, value):
        return _unique_categories(value)


class BudgetCreate(_BudgetFields):
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    period_type: PeriodType
    start_date: date
    end_date: date | None = None
    total_amount: PositiveMoney
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    family_id: UUID | None = None
    categories: list[BudgetCategoryIn] = Field(max_length=200)


class BudgetPatch(_BudgetFields):
    name: str = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    period_type: PeriodType = None
    start_date: date = None
    end_date: date | None = None
    total_amount: PositiveMoney = None
    currency: str = Field(default=None, pattern=r"^[A-Z]{3}$")
    is_active: bool = None
    # Replaces the budget's whole set of categories.
    categories: list[BudgetCategoryIn] = Field(default=None, max_length=200)


class BudgetCategoryOut(ResponseModel):
    category_id: UUID
    allocated_amount: Money
    alert_threshold: Threshold


class BudgetOut(ResponseModel):
    id: UUID
    user_id: UUID
    family_id: UUID | None
    name: str
    description: str | None
    period_type: PeriodType
    start_date: date
    end_date: date | None
    total_amount: Money
    currency: str
    is_active: bool
    categories: list[BudgetCategoryOut]
    created_at: Timestamp
    updated_at: Timestamp


class BudgetPage(ResponseModel):
    items: list[BudgetOut]
    next_cursor: str | None


class BudgetListQuery(PageQuery):
    family_id: UUID | None = None
    include_inactive: bool = False


class StatusQuery(RequestModel):
    on: date | None = Field(default=None, alias="date")


class CategoryStatus(ResponseModel):
    category_id: UUID
    allocated_amount: Money
    spent_amount: Money
    remaining_amount: Money
    percent_used: float
    alert_threshold: Threshold
    state: BudgetState


class BudgetStatus(ResponseModel):
    budget_id: UUID
    period_start: date
    period_end: date
    total_allocated: Money
    total_spent: Money
    categories: list[CategoryStatus]
