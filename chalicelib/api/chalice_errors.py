"""The answers Chalice writes itself, before or around our views, in the contract's shape.

Three places answer without ever reaching `routing.dispatch`:
- Chalice's dispatcher: 405 for a method the path does not have, 415 for a body whose
  Content-Type the route does not take (and any ChaliceViewError), as
  `{"Code": ..., "Message": ...}`. An `http` middleware sees those responses and
  rewrites them (`install`).
- The local gateway (`chalice local` and `chalice.test.Client` share it): a path that
  matches no route raises its ForbiddenError, API Gateway's 403 "Missing Authentication
  Token". The contract says 404 `not_found`; `install` wraps `LocalGateway.handle_request`
  when the local gateway is loaded (never in Lambda, where it is not imported).
- API Gateway itself, in AWS, for an unknown path: that answer is a gateway response
  (MISSING_AUTHENTICATION_TOKEN) configured on the REST API, outside this code.
"""

import json
import sys
from typing import Any

from chalice import Chalice, Response

from chalicelib.api import errors

# Chalice's error codes by status, as the contract names them.
_CODES = {
    400: ("validation_error", "The request is not valid"),
    401: ("unauthorized", "Authentication is required"),
    403: ("forbidden", "Not allowed"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "This method is not allowed on this path"),
    409: ("conflict", "Conflict"),
    413: ("payload_too_large", "The request body is too large"),
    415: ("unsupported_media_type", "The request body must be application/json"),
    422: ("unprocessable_entity", "The request cannot be processed"),
    429: ("rate_limited", "Too many requests"),
}


def _written_by_chalice(body: Any) -> bool:
    if isinstance(body, (str, bytes)):
        try:
            body = json.loads(body)
        except ValueError:
            return False
    return isinstance(body, dict) and set(body) == {"Code", "Message"}


def contract_shaped(response: Response) -> Response:
    """Chalice's own error answers rewritten; every other response (ours, including
    /health's 503 body) unchanged."""
    if response.status_code < 400 or not _written_by_chalice(response.body):
        return response
    code, message = _CODES.get(response.status_code, ("internal_error", "Something went wrong"))
    if response.status_code == 405 and response.headers.get("Allow"):
        message = f"{message}; allowed: {response.headers['Allow']}"
    keep = {k: v for k, v in (response.headers or {}).items() if k.lower() not in ("content-type", "content-length")}
    return errors.error_response(response.status_code, code, message, headers=keep)


def _not_found_response() -> dict[str, Any]:
    return {
        "statusCode": 404,
        "headers": dict(errors.JSON_HEADERS),
        "multiValueHeaders": {},
        "body": json.dumps(errors.error_body("not_found", "No such route")),
    }


def _wrap_local_gateway() -> None:
    local = sys.modules.get("chalice.local")
    if local is None or getattr(local.LocalGateway.handle_request, "_contract_errors", False):
        return
    original = local.LocalGateway.handle_request

    def handle_request(self, method: str, path: str, headers: dict, body: bytes | None) -> dict[str, Any]:
        try:
            return original(self, method, path, headers, body)
        except local.ForbiddenError:
            # We declare no Chalice authorizers, so the gateway's 403 only ever means "no route".
            return _not_found_response()

    handle_request._contract_errors = True  # type: ignore[attr-defined]
    local.LocalGateway.handle_request = handle_request

    # http.server answers 501 in HTML for any method its handler has no do_X for (TRACE,
    # QUERY, anything a client invents); handing them all to the gateway gives the
    # contract's 405 instead (API Gateway refuses them itself).
    def any_method(self, name: str):
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    local.ChaliceRequestHandler.__getattr__ = any_method


def install(app: Chalice) -> None:
    """Every answer of `app` in the contract's error shape, whoever writes it."""

    @app.middleware("http")
    def contract_errors(event, get_response):
        return contract_shaped(get_response(event))

    _wrap_local_gateway()
