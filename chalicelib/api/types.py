"""Field types shared by request and response models: money as exact two-decimal
strings, timestamps in UTC with an offset, strict request models."""

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, WithJsonSchema

MAX_MONEY = Decimal("9999999999999.99")  # NUMERIC(15,2)


def parse_money(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise ValueError("must be a decimal amount")
    if isinstance(value, float):
        value = repr(value)  # the shortest text that round-trips: 42.1 -> "42.1", not 42.1000000000000014…
    if isinstance(value, (int, str)):
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError('must be a decimal amount such as "-42.10"') from None
    elif isinstance(value, Decimal):
        amount = value
    else:
        raise ValueError("must be a decimal amount")
    if not amount.is_finite():
        raise ValueError("must be a finite amount")
    if abs(amount) > MAX_MONEY:
        raise ValueError("is too large")
    cents = amount.quantize(Decimal("0.01"))
    if cents != amount:
        raise ValueError("must have at most two decimals")
    return cents


def format_money(value: Decimal) -> str:
    return f"{Decimal(value).quantize(Decimal('0.01')):.2f}"


Money = Annotated[
    Decimal,
    BeforeValidator(parse_money),
    PlainSerializer(format_money, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "example": "-42.10"}, mode="serialization"),
    WithJsonSchema({"oneOf": [{"type": "string"}, {"type": "number"}], "example": "-42.10"}, mode="validation"),
]


def format_timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).isoformat()


Timestamp = Annotated[datetime, PlainSerializer(format_timestamp, return_type=str)]


class RequestModel(BaseModel):
    """Request bodies and queries: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
