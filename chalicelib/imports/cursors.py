"""Opaque keyset cursors for GET /imports: (created_at, id) of a page's last row."""

import base64
import binascii
import json
from datetime import datetime
from uuid import UUID

from chalicelib.errors import ValidationFailed


def encode(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, UUID]:
    """The sort key a cursor carries; a cursor that does not decode is a 400, never a 500."""
    try:
        values = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        created = datetime.fromisoformat(values[0])
        if created.tzinfo is None:
            raise ValueError("naive timestamp")
        return created, UUID(values[1])
    except (ValueError, TypeError, KeyError, IndexError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed.field("cursor", "is not a valid cursor") from None
