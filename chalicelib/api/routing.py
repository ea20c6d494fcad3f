"""Routes as the contract wants them: `ApiBlueprint.route` registers a Chalice route
whose view receives a RequestContext and validated pydantic models, and whose every
failure (domain error, validation, crash) leaves in the contract's error shape.

The wrapper has to sit around the view itself: Chalice turns an unexpected
exception into a bare 500 inside its dispatcher before any middleware sees it.
"""

import contextvars
import functools
import importlib
import inspect
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from chalice import Blueprint, Response
from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python

from chalicelib.api import errors, raw_input
from chalicelib.api.context import RequestContext
from chalicelib.core.actor import Actor
from chalicelib.core.types import QUERY_CONTEXT
from chalicelib.errors import DomainError, NotFound, PayloadTooLarge, ValidationFailed
from chalicelib.infra.logging import configure as configure_logging
from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings
from chalicelib.live import binding as live_binding

WRITE_METHODS = {"POST", "PATCH"}


@dataclass(frozen=True)
class RouteSpec:
    path: str
    method: str
    view_name: str
    tag: str
    summary: str
    auth: bool
    status: int
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any
    errors: tuple[int, ...] = field(default=())


ROUTES: list[RouteSpec] = []
# Every ApiBlueprint by the module that made it: how app.py's lazy routes find a view.
_BLUEPRINTS: dict[str, "ApiBlueprint"] = {}
# The request `dispatch` is handling, for the few views that need more than the context
# (a raw body to verify a signature); the same object as the app's current_request.
_CURRENT_REQUEST: contextvars.ContextVar = contextvars.ContextVar("current_request")

# (request, URI parameters) -> Response: a declared route's whole handling.
RouteHandler = Callable[[Any, dict[str, str]], Response]


class ApiBlueprint:
    def __init__(self, import_name: str, *, tag: str):
        self.blueprint = Blueprint(import_name)
        self.tag = tag
        self.specs: list[RouteSpec] = []
        self.handlers: dict[tuple[str, str], RouteHandler] = {}
        self.views: dict[tuple[str, str], Callable] = {}
        _BLUEPRINTS[import_name] = self

    @property
    def current_request(self):
        """The request being dispatched (registered lazily or as a Chalice blueprint)."""
        return _CURRENT_REQUEST.get()

    def route(
        self,
        path: str,
        *,
        method: str = "GET",
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        auth: bool = True,
        summary: str | None = None,
        errors_: tuple[int, ...] = (),
    ) -> Callable:
        def decorator(view: Callable) -> Callable:
            spec = RouteSpec(
                path=path,
                method=method,
                view_name=view.__name__,
                tag=self.tag,
                summary=summary or (inspect.getdoc(view) or view.__name__).splitlines()[0],
                auth=auth,
                status=status,
                body=body,
                query=query,
                response=response,
                errors=errors_,
            )
            ROUTES.append(spec)
            self.specs.append(spec)
            uuid_params = {name for name, p in inspect.signature(view).parameters.items() if p.annotation is uuid.UUID}

            def handle(request, uri_params: dict[str, str]) -> Response:
                return dispatch(request, spec, view, uri_params, uuid_params)

            @functools.wraps(view)
            def handler(**uri_params: str) -> Response:
                return handle(self.blueprint.current_request, uri_params)

            self.handlers[(method, path)] = handle
            self.views[(method, path)] = view
            # Registering the blueprint itself stays possible (tests/infra/demo_app.py);
            # app.py registers lazily from the route table instead (api/lazy_routes.py).
            self.blueprint.route(path, methods=[method])(handler)
            return view

        return decorator


def route_handler(module: str, method: str, path: str) -> RouteHandler:
    """The handling of one declared route, its routes module imported on the way."""
    importlib.import_module(module)
    try:
        return _BLUEPRINTS[module].handlers[(method, path)]
    except KeyError:
        raise LookupError(f"{module} declares no route {method} {path}; regenerate the route table") from None


def blueprint_of(module: str) -> ApiBlueprint:
    importlib.import_module(module)
    return _BLUEPRINTS[module]


def _context(request) -> RequestContext:
    headers = {k.lower(): v for k, v in (request.headers or {}).items()}
    ctx = request.context or {}
    identity = ctx.get("identity") or {}
    request_id = headers.get("x-request-id") or ctx.get("requestId") or uuid.uuid4().hex
    return RequestContext(
        request_id=request_id,
        method=request.method,
        path=_actual_path(request),
        headers=headers,
        actor=Actor(
            ip_address=_client_ip(headers, identity), user_agent=headers.get("user-agent"), request_id=request_id
        ),
    )


def _client_ip(headers: dict[str, str], identity: dict) -> str | None:
    """API Gateway's sourceIp is the address that connected; X-Forwarded-For is written by
    the client and only its last hop, added by a proxy we run, can be believed — and only
    where settings say such a proxy is in front (tests use it to simulate clients)."""
    forwarded = headers.get("x-forwarded-for", "")
    if forwarded and get_settings().trust_forwarded_for:
        return forwarded.split(",")[-1].strip() or identity.get("sourceIp")
    return identity.get("sourceIp")


def _actual_path(request) -> str:
    ctx = request.context or {}
    path = ctx.get("path") or ctx.get("resourcePath") or "/"
    stage = ctx.get("stage")
    # API Gateway prefixes the stage ("/api/accounts"); the contract's paths have none.
    if stage and path.startswith(f"/{stage}/"):
        path = path[len(stage) + 1 :]
    return path


def _parse_body(raw: bytes, spec: RouteSpec) -> BaseModel:
    if not raw or not raw.strip():
        if body_required(spec):
            raise ValidationFailed.field("body", "is required")
        payload: dict[str, Any] = {}
    else:
        payload = raw_input.parse_json_object(raw)
    if spec.method == "PATCH" and not payload:
        raise ValidationFailed.field("body", "names no field to change")
    return spec.body.model_validate(payload)


def body_required(spec: RouteSpec) -> bool:
    """A body may be left out only where every field of it is optional, and never on a PATCH."""
    if spec.body is None:
        return False
    return spec.method == "PATCH" or any(f.is_required() for f in spec.body.model_fields.values())


def _parse_query(request, model: type[BaseModel]) -> BaseModel:
    params = dict(request.query_params or {})
    raw_input.check_text(params, where="")
    try:
        return model.model_validate(params, context=QUERY_CONTEXT)
    except ValidationError as exc:
        raise ValidationFailed("The query is not valid", details=errors.validation_details(exc)) from None


def render(spec: RouteSpec, result: Any) -> tuple[int, Any, dict[str, str]]:
    """A view's return value as (status, JSON-able body, extra headers)."""
    if isinstance(result, Response):
        return result.status_code, result.body, dict(result.headers or {})
    if result is None:
        return 204, None, {}
    if isinstance(result, BaseModel):
        return spec.status, result.model_dump(mode="json"), {}
    return spec.status, to_jsonable_python(result), {}


def to_response(status: int, body: Any, headers: dict[str, str]) -> Response:
    if status == 204 or body is None:
        return Response(body="", status_code=status, headers=headers)
    text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
    return Response(body=text, status_code=status, headers={**errors.JSON_HEADERS, **headers})


def dispatch(request, spec: RouteSpec, view: Callable, uri_params: dict, uuid_params: set[str]) -> Response:
    configure_logging()
    ctx = _context(request)
    logger.append_keys(request_id=ctx.request_id, route=f"{spec.method} {spec.path}")
    current = _CURRENT_REQUEST.set(request)
    responding = live_binding.request_started()
    try:
        raw = request.raw_body or b""
        if len(raw) > get_settings().max_body_bytes:
            raise PayloadTooLarge("The request body is larger than 1 MiB")
        if spec.auth:
            # Imported on use: a public route's first call (/health) need not load the
            # token, password and session code behind the guard.
            from chalicelib.auth.guard import authenticate

            user_id, session_id = authenticate(ctx.headers.get("authorization"))
            ctx.actor = ctx.actor.signed_in(user_id=user_id, session_id=session_id)
        kwargs: dict[str, Any] = {}
        for name, value in uri_params.items():
            if name in uuid_params:
                try:
                    kwargs[name] = uuid.UUID(value)
                except ValueError:
                    raise NotFound("Not found") from None
            else:
                raw_input.check_text(value, where=name)
                kwargs[name] = value
        if spec.query is not None:
            kwargs["query"] = _parse_query(request, spec.query)
        if spec.body is not None:
            kwargs["body"] = _parse_body(raw, spec)

        def call() -> tuple[int, Any, dict[str, str]]:
            return render(spec, view(ctx, **kwargs))

        key = ctx.headers.get("idempotency-key")
        if spec.auth and spec.method in WRITE_METHODS and key is not None:
            from chalicelib.api import idempotency

            return to_response(*idempotency.run(ctx, key=key, raw_body=raw, call=call))
        return to_response(*call())
    except DomainError as exc:
        if exc.status >= 500:
            logger.error("request failed", extra={"code": exc.code})
        return errors.from_domain_error(exc)
    except ValidationError as exc:
        return errors.from_validation_error(exc)
    except psycopg.OperationalError:
        # The server went away mid-request (restart, failover): the transaction did not
        # commit, so nothing is half-written; the client may retry.
        logger.warning("database unavailable", exc_info=True)
        return errors.error_response(503, "service_unavailable", "The database is unavailable; try again shortly")
    except Exception:
        logger.exception("unhandled error")
        return errors.error_response(500, "internal_error", "Something went wrong; the request id is " + ctx.request_id)
    finally:
        live_binding.request_finished(responding)
        _CURRENT_REQUEST.reset(current)
        logger.remove_keys(["request_id", "route"])
