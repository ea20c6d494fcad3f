"""Event handlers at the edge, the Powertools way, under Chalice.

Chalice calls an `@app.on_s3_event` / `@app.schedule` / `@app.on_ws_*` handler with one
argument, its own event object (the raw event in `.to_dict()`, the Lambda context in
`.context`); Powertools' decorators (`@logger.inject_lambda_context`) expect the Lambda
signature `(event, context)`. `typed_event` bridges the two, outermost under Chalice's
decorator, and hands the handler its event as a Powertools data class:

    @app.on_s3_event(bucket=..., prefix="imports/")
    @typed_event("S3Event")
    @logger.inject_lambda_context
    def statement_uploaded(event: S3Event, context: LambdaContext): ...

The data classes are imported on the first call (their package loads all of them,
~20 ms), not when app.py is imported. The local bridge, the local WebSocket gateway and
tests call handlers without a full Lambda context; they get a local stand-in."""

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# What Powertools reads off a Lambda context (build_lambda_context_model).
_CONTEXT_FIELDS = ("function_name", "memory_limit_in_mb", "invoked_function_arn", "aws_request_id")


@dataclass(frozen=True)
class LocalContext:
    function_name: str
    memory_limit_in_mb: int = 0
    invoked_function_arn: str = ""
    aws_request_id: str = field(default_factory=lambda: uuid.uuid4().hex)


def _context(context: Any, name: str) -> Any:
    if context is not None and all(hasattr(context, f) for f in _CONTEXT_FIELDS):
        return context
    known = {f: getattr(context, f) for f in _CONTEXT_FIELDS if getattr(context, f, None) is not None}
    return LocalContext(**{"function_name": f"fiscaflow-local-{name}", **known})


def _data_class(name: str) -> type:
    from aws_lambda_powertools.utilities import data_classes

    return getattr(data_classes, name)


def typed_event(data_class: str) -> Callable[[Callable[[Any, Any], Any]], Callable[[Any], Any]]:
    """Chalice's one-argument handler from a Lambda-style `handler(event, context)` that
    receives the event as `aws_lambda_powertools.utilities.data_classes.<data_class>`."""

    def decorator(handler: Callable[[Any, Any], Any]) -> Callable[[Any], Any]:
        resolved: list[type] = []

        @functools.wraps(handler)
        def chalice_handler(event: Any) -> Any:
            from chalicelib.infra.logging import configure

            configure()
            if not resolved:
                resolved.append(_data_class(data_class))
            return handler(resolved[0](event.to_dict()), _context(event.context, handler.__name__))

        return chalice_handler

    return decorator
