"""The app's websocket_api, handed to the push path without loading it: app.py binds it
at import time in every function, and the publisher (Redis, PostgreSQL and the dashboard
behind it) is imported only when something is first published or invalidated."""

import contextvars
import threading
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

_websocket_api: Any = None
# The dashboard's own figures (dashboard.service.live_figures_of), given by app.py: the
# dashboard reads budgets and notifications, which push through live, so live may not
# import it.
_figures: Callable[..., Any] | None = None


def bind(websocket_api: Any) -> None:
    """Send through this websocket_api; until then nothing is pushed."""
    global _websocket_api
    from chalicelib.core import caching

    _websocket_api = websocket_api
    caching.on_invalidate(_dashboards_changed)


def websocket_api() -> Any:
    return _websocket_api


def figures_from(provider: Callable[..., Any]) -> None:
    """Where dashboard.updated takes its figures: provider(user_ids=…) → {user_id: LiveFigures}."""
    global _figures
    _figures = provider


def figures() -> Callable[..., Any] | None:
    return _figures


def _dashboards_changed(user_ids: Iterable[UUID]) -> None:
    from chalicelib.live import publisher

    publisher.dashboard_changed(user_ids)


# Set once the API response of the current request is built (api/routing.dispatch): pushes
# that do not hold the request up (LIVE_PUSH_WAIT_MS=0) start their work after it, so that
# the delivery threads never compete with the write's own response for the interpreter.
_response_ready: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "live_response_ready", default=None
)


def request_started() -> contextvars.Token:
    return _response_ready.set(threading.Event())


def request_finished(token: contextvars.Token) -> None:
    ready = _response_ready.get()
    if ready is not None:
        ready.set()
    _response_ready.reset(token)


def response_ready() -> threading.Event | None:
    """The current request's "response built" event; None outside a request (S3, schedules)."""
    return _response_ready.get()
