"""Field types shared by the ledger's request models."""

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

from chalicelib.core.types import MAX_DATE, MIN_DATE

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_iso_date(value: Any) -> date:
    """Only `YYYY-MM-DD` that exists (no timestamps, no epoch numbers)."""
    if isinstance(value, date):
        parsed = value
    elif isinstance(value, str) and _DATE.match(value.strip()):
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("is not a date that exists") from None
    else:
        raise ValueError("must be a date YYYY-MM-DD")
    if not MIN_DATE <= parsed <= MAX_DATE:
        raise ValueError(f"must be between {MIN_DATE} and {MAX_DATE}")
    return parsed


IsoDate = Annotated[
    date,
    BeforeValidator(parse_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "example": "2024-05-31"}),
]


def parse_currency(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value.strip()):
        raise ValueError("must be a three-letter ISO 4217 code")
    return value.strip().upper()


Currency = Annotated[str, BeforeValidator(parse_currency), WithJsonSchema({"type": "string", "pattern": "^[A-Z]{3}$"})]

Name = Annotated[str, Field(min_length=1, max_length=100)]
