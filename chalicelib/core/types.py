"""Field types shared by request and response models: money as exact two-decimal
strings, timestamps in UTC with an offset, strict request models."""

import re
import types
import typing
from datetime import UTC, date, datetime
from decimal import Context, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from chalicelib.core.money import MAX_MONEY

_WIDE = Context(prec=60)  # quantize of a large server-side sum must not raise InvalidOperation
# A money string as the document declares it: at most 13 digits, at most two decimals.
MONEY_PATTERN = r"^-?[0-9]{1,13}(\.[0-9]{1,2})?$"
_DECIMAL_TEXT = re.compile(r"^-?([0-9]+)(\.[0-9]+)?$")
# Dates a request may carry. Period maths adds months and years to them (a budget's end, an
# export's last day, analytics' buckets): near year 9999 that overflowed Python's date
# (500s, issue 16). The document states the same range as a pattern on the year.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2100, 12, 31)  # the ledger's range (chalicelib/ledger/fields.py) for every request
DATE_YEAR_PATTERN = "^(19[0-9]{2}|20[0-9]{2}|2100)-"
_ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_INTEGER_TEXT = re.compile(r"^-?[0-9]+$")
# routing validates query strings with this context: there "true" and "42" are the only way
# to write a boolean or a number, while a JSON body must use JSON's own types.
QUERY_CONTEXT = {"source": "query"}


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
    # The column's bound is on what clients send (JSON gives str, int or float); a Decimal
    # the server summed (net worth over many accounts) may exceed one column and is still
    # the right answer, not a 400.
    if abs(amount) > MAX_MONEY and not isinstance(value, Decimal):
        raise ValueError("is too large")
    cents = amount.quantize(Decimal("0.01"), context=_WIDE)
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


def _money_rule(rule: str, message: str, string: dict[str, Any], number: dict[str, Any]) -> Any:
    """Money with a sign rule, checked by the server and stated in the document."""
    checks = {"positive": lambda v: v > 0, "not_negative": lambda v: v >= 0, "not_zero": lambda v: v != 0}

    def check(value: Decimal) -> Decimal:
        if not checks[rule](value):
            raise ValueError(message)
        return value

    number_base = {"type": "number", "multipleOf": 0.01, "minimum": -float(MAX_MONEY), "maximum": float(MAX_MONEY)}
    return Annotated[
        Money,
        AfterValidator(check),
        WithJsonSchema(
            {
                "oneOf": [
                    {"type": "string", "allOf": [{"pattern": MONEY_PATTERN}, string]},
                    {**number_base, **number},
                ],
                "example": "42.10",
            },
            mode="validation",
        ),
    ]


# Written with allOf/not rather than one pattern: no lookahead, which not every JSON Schema
# regex engine has. "Has a digit 1-9" is what makes an amount non-zero.
PositiveMoney = _money_rule(
    "positive", "must be positive", {"pattern": "[1-9]", "not": {"pattern": "^-"}}, {"exclusiveMinimum": 0}
)
NonNegativeMoney = _money_rule(
    "not_negative", "may not be negative", {"not": {"allOf": [{"pattern": "^-"}, {"pattern": "[1-9]"}]}}, {"minimum": 0}
)
NonZeroMoney = _money_rule("not_zero", "must not be zero", {"pattern": "[1-9]"}, {"not": {"const": 0}})

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
    left out it stays unset, sent as null it is a 400 "may not be null" — the one null rule,
    for every request model — and the document says the same."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _as_the_document_types_it(cls, value: Any, info: ValidationInfo) -> Any:
        """pydantic's lax mode took 0 for false, false for 0 and "0" for 1970-01-01; the
        document says boolean, integer and YYYY-MM-DD, so the server takes only those."""
        annotation = cls.model_fields[info.field_name].annotation
        if value is None:
            if not _admits_none(annotation):
                raise ValueError(NULL_REFUSED)
            return value
        kind = _plain_type(annotation)
        if kind is None:
            return value
        from_query = (info.context or {}).get("source") == QUERY_CONTEXT["source"]
        if kind is bool:
            ok = isinstance(value, bool) or (from_query and value in ("true", "false"))
        elif kind is int:
            # JSON Schema's integer includes 3.0; the server takes it as 3 too.
            ok = (
                (isinstance(value, int) and not isinstance(value, bool))
                or (isinstance(value, float) and value.is_integer())
                or (from_query and isinstance(value, str) and bool(_INTEGER_TEXT.match(value)))
            )
        else:
            ok = isinstance(value, date) or (isinstance(value, str) and bool(_ISO_DAY.match(value)))
        if not ok:
            raise ValueError(
                {bool: "must be true or false", int: "must be an integer"}.get(kind, "must be a date YYYY-MM-DD")
            )
        return value

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


class PageQuery(RequestModel):
    """`?limit=&cursor=` of a keyset-paginated list (API.md "Conventions")."""

    limit: int = Field(default=50, ge=1, le=200)
    cursor: Cursor | None = None


NULL_REFUSED = "may not be null"


def _admits_none(annotation: Any) -> bool:
    """Whether the field's type takes null (`X | None`, `Optional[X]`, Any)."""
    if annotation is Any or annotation is None or annotation is type(None):
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _admits_none(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_admits_none(arg) for arg in typing.get_args(annotation))
    return False


def _plain_type(annotation: Any) -> type | None:
    """bool, int or date when that is what the field holds (optional or not), else None."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _plain_type(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        kinds = {_plain_type(arg) for arg in typing.get_args(annotation) if arg is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    if annotation in (bool, int, date):
        return annotation
    return None


def strip_text(value: Any) -> Any:
    """Surrounding whitespace off a text field (a BeforeValidator)."""
    return value.strip() if isinstance(value, str) else value
