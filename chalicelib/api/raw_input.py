"""What every request body and query string must be before a model sees it.

Checked on the raw input, before `json.loads` or pydantic, because each of these broke
the server rather than the request (issue 16, item 7):
- nesting: `json.loads` recurses, so 5,000 nested arrays raised RecursionError (a 500),
  also on the unauthenticated /auth/login; depth is counted on the bytes first.
- NUL: PostgreSQL refuses U+0000 in text (a 500 at INSERT or in a WHERE).
- lone surrogates (`"\\ud800"` in JSON): not encodable as UTF-8, so psycopg fails on them.
"""

import json
import re
from typing import Any

from chalicelib.errors import PayloadTooLarge, ValidationFailed

MAX_DEPTH = 64  # API.md: JSON nested deeper than 64 levels is 413

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def json_depth_exceeds(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when brackets outside strings nest deeper than `limit` (unbalanced JSON is
    left for the parser to refuse)."""
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKET)
    if len(brackets) <= 2 * limit:
        return False
    depth = 0
    for byte in brackets:
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object with clean text, or a 400/413 domain error."""
    if json_depth_exceeds(raw):
        raise PayloadTooLarge(f"The request body is nested deeper than {MAX_DEPTH} levels")
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ValidationFailed.field("body", "is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ValidationFailed.field("body", "must be a JSON object")
    check_text(payload, where="")
    return payload


def check_text(value: Any, *, where: str) -> None:
    """Refuse NUL and lone surrogates in any string, key or value, at any depth."""
    stack = [(where, value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            _check_string(path or "body", node)
        elif isinstance(node, dict):
            for key, child in node.items():
                child_path = f"{path}.{key}" if path else str(key)
                _check_string(child_path, key)
                stack.append((child_path, child))
        elif isinstance(node, list):
            stack.extend((f"{path}.{i}" if path else str(i), child) for i, child in enumerate(node))


def _check_string(field: str, text: str) -> None:
    if _BAD_TEXT.search(text):
        field = _BAD_TEXT.sub("?", field)  # the field name itself may be what is wrong
        raise ValidationFailed.field(field, "must not contain NUL characters or lone surrogates")
