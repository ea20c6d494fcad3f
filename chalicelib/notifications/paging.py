"""Keyset pages over (created_at, id), newest first, with an opaque cursor; shared by
the lists of notifications, budgets and goals."""

import base64
import json
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from chalicelib.core.types import Cursor, RequestModel
from chalicelib.errors import ValidationFailed


class PageQuery(RequestModel):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Cursor | None = None


def encode_cursor(row: dict[str, Any]) -> str:
    raw = json.dumps([row["created_at"].isoformat(), str(row["id"])]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, UUID] | None:
    if cursor is None:
        return None
    try:
        created_at, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(created_at), UUID(row_id)
    except (ValueError, TypeError):
        raise ValidationFailed.field("cursor", "is not a cursor this list returned") from None


def page(rows: list[dict[str, Any]], limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """Split the limit+1 rows a keyset query fetched into the page and the next cursor."""
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1])
    return rows, None
