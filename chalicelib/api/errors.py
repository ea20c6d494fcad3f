"""Rendering of every failure in the contract's error shape."""

import json
from typing import Any

from chalice import Response
from pydantic import ValidationError

from chalicelib.errors import DomainError, RateLimited

JSON_HEADERS = {"Content-Type": "application/json"}


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def error_response(status: int, code: str, message: str, details=None, headers=None) -> Response:
    return Response(
        body=json.dumps(error_body(code, message, details)),
        status_code=status,
        headers={**JSON_HEADERS, **(headers or {})},
    )


def from_domain_error(exc: DomainError) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return error_response(exc.status, exc.code, exc.message, exc.details, headers)


def validation_details(exc: ValidationError, *, prefix: str = "") -> list[dict[str, str]]:
    details = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in err.get("loc", ()))
        field = ".".join(p for p in (prefix, loc) if p) or "body"
        message = err.get("msg", "is invalid")
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        details.append({"field": field, "message": message})
    return details


def from_validation_error(exc: ValidationError, *, prefix: str = "") -> Response:
    return error_response(400, "validation_error", "The request is not valid", validation_details(exc, prefix=prefix))
