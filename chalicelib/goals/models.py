"""Request and response models of /goals (API.md "Goals")."""

from datetime import date
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import Field

from chalicelib.core.types import (
    Money,
    NonNegativeMoney,
    NonZeroMoney,
    PageQuery,
    PositiveMoney,
    RequestModel,
    ResponseModel,
    Timestamp,
)

GoalType = Literal["savings", "debt_payoff", "investment", "emergency_fund", "vacation", "purchase", "other"]
COLOR = r"^#[0-9A-Fa-f]{6}$"


class GoalCreate(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    goal_type: GoalType
    target_amount: PositiveMoney
    target_date: date | None = None
    description: str | None = Field(default=None, max_length=2000)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    icon: str | None = Field(default=None, max_length=50)
    color: str | None = Field(default=None, pattern=COLOR)
    family_id: UUID | None = None
    current_amount: NonNegativeMoney = Decimal("0.00")


class GoalPatch(RequestModel):
    name: str = Field(default=None, min_length=1, max_length=100)
    goal_type: GoalType = None
    target_amount: PositiveMoney = None
    target_date: date | None = None
    description: str | None = Field(default=None, max_length=2000)
    currency: str = Field(default=None, pattern=r"^[A-Z]{3}$")
    icon: str | None = Field(default=None, max_length=50)
    color: str | None = Field(default=None, pattern=COLOR)
    current_amount: NonNegativeMoney = None
    is_active: bool = None


class ContributionIn(RequestModel):
    amount: NonZeroMoney


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
