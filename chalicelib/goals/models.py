"""Request and response models of /goals (API.md "Goals")."""

from datetime import date
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import Field, field_validator

from chalicelib.api.types import Money, RequestModel, ResponseModel, Timestamp
from chalicelib.notifications.paging import PageQuery

GoalType = Literal["savings", "debt_payoff", "investment", "emergency_fund", "vacation", "purchase", "other"]
COLOR = r"^#[0-9A-Fa-f]{6}$"


class _GoalAmounts(RequestModel):
    @field_validator("target_amount", check_fields=False)
    @classmethod
    def _positive(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and value <= 0:
            raise ValueError("must be positive")
        return value

    @field_validator("current_amount", check_fields=False)
    @classmethod
    def _not_negative(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and value < 0:
            raise ValueError("may not be negative")
        return value


class GoalCreate(_GoalAmounts):
    name: str = Field(min_length=1, max_length=100)
    goal_type: GoalType
    target_amount: Money
    target_date: date | None = None
    description: str | None = Field(default=None, max_length=2000)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    icon: str | None = Field(default=None, max_length=50)
    color: str | None = Field(default=None, pattern=COLOR)
    family_id: UUID | None = None
    current_amount: Money = Decimal("0.00")


class GoalPatch(_GoalAmounts):
    name: str = Field(default=None, min_length=1, max_length=100)
    goal_type: GoalType = None
    target_amount: Money = None
    target_date: date | None = None
    description: str | None = Field(default=None, max_length=2000)
    currency: str = Field(default=None, pattern=r"^[A-Z]{3}$")
    icon: str | None = Field(default=None, max_length=50)
    color: str | None = Field(default=None, pattern=COLOR)
    current_amount: Money = None
    is_active: bool = None


class ContributionIn(RequestModel):
    amount: Money

    @field_validator("amount")
    @classmethod
    def _non_zero(cls, value: Decimal) -> Decimal:
        if value == 0:
            raise ValueError("must not be zero")
        return value


class GoalOut(ResponseModel):
    id: UUID
    user_id: UUID
    family_id: UUID | None
    name: str
    description: str | None
    goal_type: GoalType
    target_amount: Money
    current_amount: Money
    currency: str
    target_date: date | None
    start_date: date | None
    icon: str | None
    color: str | None
    is_active: bool
    progress_percent: float
    created_at: Timestamp
    updated_at: Timestamp


class GoalPage(ResponseModel):
    items: list[GoalOut]
    next_cursor: str | None


class GoalListQuery(PageQuery):
    family_id: UUID | None = None
    include_inactive: bool = False
