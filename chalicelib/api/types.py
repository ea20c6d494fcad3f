"""Field types shared by request and response models: money as exact two-decimal
strings, timestamps in UTC with an offset, strict request models."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema, field_validator

MAX_MONEY = Decimal("9999999999999.99")  # NUMERIC(15,2)
# A money string as the document declares it: at most 13 digits, at most two decimals.
MONEY_PATTERN = r"^-?[0-9]{1,13}(\.[0-9]{1,2})?$"
_DECIMAL_TEXT = re.compile(r"^-?([0-9]+)(\.[0-9]+)?$")
# Dates a request may carry. Period maths adds months and years to them (a budget's end, an
# export's last day, analytics' buckets): near year 9999 that overflowed Python's date
# (500s, issue 16). The document states the same range as a pattern on the year.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2999, 12, 31)
DATE_YEAR_PATTERN = "^(19|2[0-9])[0-9]{2}-"


def parse_money(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise ValueError("must be a decimal amount")
    if isinstance(value, float):
        value = repr(value)  # the shortest text that round-trips: 42.1 -> "42.1", not 42.1000000000000014…
    if isinstance(value, str):
        # Plain decimal text only (no exponent, sign "+", spaces or "_"), as MONEY_PATTERN says.
        text = _DECIMAL_TEXT.match(value)
        if not text:
            raise ValueError('must be a decimal amount such as "-42.10"')
        if len(text.group(1)) > 13:
            raise ValueError("is too large")
        if text.group(2) and len(text.group(2)) > 3:  # "5.000" too: the contract counts digits written
            raise ValueError("must have at most two decimals")
    if isinstance(value, (int, str)):
        try:
            amount = Decimal(str(value))
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
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "string", "pattern": MONEY_PATTERN},
                {"type": "number", "multipleOf": 0.01, "minimum": -float(MAX_MONEY), "maximum": float(MAX_MONEY)},
            ],
            "example": "-42.10",
        },
        mode="validation",
    ),
]

# A keyset cursor as the lists hand them out (base64url, no padding); one that decodes to no
# position of that list is still a 400, which no schema can tell in advance.
Cursor = Annotated[str, Field(min_length=1, max_length=1000, pattern=r"^[A-Za-z0-9_-]+$")]


def format_timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).isoformat()


Timestamp = Annotated[datetime, PlainSerializer(format_timestamp, return_type=str)]


class RequestModel(BaseModel):
    """Request bodies and queries: unknown fields are an error, not silently dropped.

    PATCH bodies type a field that may not be cleared without None (`name: Name = None`):
    left out it stays unset, sent as null it is a 400, and the document says the same."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _dates_in_range(cls, value: Any) -> Any:
        for day in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(day, date):
                plain = day.date() if isinstance(day, datetime) else day
                if not MIN_DATE <= plain <= MAX_DATE:
                    raise ValueError(f"must be between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}")
        return value


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
