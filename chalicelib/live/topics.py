"""What a client may subscribe to, and the frames the server sends."""

import json
from typing import Any

from pydantic_core import to_jsonable_python

TOPICS = ("notifications", "dashboard", "imports", "exports", "bank_sync")


def frame(type: str, data: Any) -> str:
    """A server message: {"type": "<topic>.<event>", "data": {...}} (API.md "Live updates")."""
    return json.dumps({"type": type, "data": to_jsonable_python(data)}, separators=(",", ":"))


def error_frame(code: str, message: str) -> str:
    return frame("error", {"code": code, "message": message})
