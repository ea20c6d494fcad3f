"""Opaque keyset cursors: the sort key of the last row of a page, base64url-encoded JSON.
A cursor that does not decode is a validation error, never a 500 or an empty page."""

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from chalicelib.errors import ValidationFailed


def encode(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, parse: Callable[[list[Any]], Any]) -> Any:
    """`parse` turns the decoded list into the typed sort key (raising ValueError/TypeError/KeyError)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list):
            raise ValueError("not a list")
        return parse(values)
    except (ValueError, TypeError, KeyError, IndexError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed.field("cursor", "is not a valid cursor") from None
