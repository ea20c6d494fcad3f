"""Request and response models of the Analytics routes (API.md "Analytics")."""

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import Field, field_validator

from chalicelib.core.types import Money, RequestModel, ResponseModel

GROUP_BY = ("category", "top_category", "merchant", "month", "account")
CASHFLOW_INTERVALS = ("month", "week")
NET_WORTH_INTERVALS = ("month",)


def _one_of(allowed: tuple[str, ...]):
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of: {', '.join(allowed)}")
        return value

    return check


class AnalyticsQuery(RequestModel):
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    account_id: UUID | None = None
    family_id: UUID | None = None


class SpendingQuery(AnalyticsQuery):
    group_by: str = Field(default="category", json_schema_extra={"enum": list(GROUP_BY)})

    _group_by = field_validator("group_by")(_one_of(GROUP_BY))


class CashflowQuery(AnalyticsQuery):
    interval: str = Field(default="month", json_schema_extra={"enum": list(CASHFLOW_INTERVALS)})

    _interval = field_validator("interval")(_one_of(CASHFLOW_INTERVALS))


class NetWorthQuery(AnalyticsQuery):
    interval: str = Field(default="month", json_schema_extra={"enum": list(NET_WORTH_INTERVALS)})

    _interval = field_validator("interval")(_one_of(NET_WORTH_INTERVALS))


class SpendingItem(ResponseModel):
    key: str | None
    label: str
    amount: Money
    count: int


class SpendingResult(ResponseModel):
    from_: date = Field(serialization_alias="from")
    to: date
    group_by: Literal["category", "top_category", "merchant", "month", "account"]
    total: Money
    items: list[SpendingItem]


class CashflowItem(ResponseModel):
    period_start: date
    income: Money
    expenses: Money
    net: Money


class CashflowResult(ResponseModel):
    from_: date = Field(serialization_alias="from")
    to: date
    interval: Literal["month", "week"]
    items: list[CashflowItem]


class NetWorthItem(ResponseModel):
    date: date
    assets: Money
    liabilities: Money
    net_worth: Money


class NetWorthResult(ResponseModel):
    from_: date = Field(serialization_alias="from")
    to: date
    interval: Literal["month"]
    items: list[NetWorthItem]
