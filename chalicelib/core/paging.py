"""Opaque keyset cursors: the sort key of a page's last row as base64url JSON (no padding).

What a cursor holds is the list's business (its sort key); how it is written and how a bad
one is refused is one rule for every list: anything that does not decode into the key the
list expects is the same 400, never a 500 and never an empty page."""

import base64
import binascii
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from chalicelib.errors import ValidationFailed

T = TypeVar("T")

INVALID_MESSAGE = "is not a valid cursor"


def invalid_cursor() -> ValidationFailed:
    return ValidationFailed.field("cursor", INVALID_MESSAGE)


def encode(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, parse: Callable[[list[Any]], T]) -> T:
    """`parse` turns the decoded list into the typed sort key, raising ValueError, TypeError,
    KeyError or IndexError when the list is not one this list handed out."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list):
            raise ValueError("not a list")
        return parse(values)
    except (ValueError, TypeError, KeyError, IndexError, binascii.Error, UnicodeDecodeError):
        raise invalid_cursor() from None


# Most lists are newest (or oldest) first by (created_at, id).


def created_key(row: dict[str, Any]) -> list[str]:
    return [row["created_at"].isoformat(), str(row["id"])]


def parse_created_key(values: list[Any]) -> tuple[datetime, UUID]:
    created_at, row_id = values
    created = datetime.fromisoformat(created_at)
    if created.tzinfo is None:  # every created_at handed out is a timestamptz
        raise ValueError("naive timestamp")
    return created, UUID(row_id)


def decode_created(cursor: str | None) -> tuple[datetime, UUID] | None:
    return None if cursor is None else decode(cursor, parse_created_key)


def page(
    rows: list[dict[str, Any]], limit: int, key: Callable[[dict[str, Any]], list[Any]] = created_key
) -> tuple[list[dict[str, Any]], str | None]:
    """Split the limit+1 rows a keyset query fetched into the page and the next cursor."""
    if len(rows) > limit:
        return rows[:limit], encode(key(rows[limit - 1]))
    return rows, None
