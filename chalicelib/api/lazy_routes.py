"""The API registered from the route table without importing any routes module.

Each table entry becomes a Chalice route (same path, method, view name, docstring and
defaults as the blueprint route it stands for) whose view is a small proxy: its first call imports
the routes module and from then on hands the request to that route's real handling
(`routing.dispatch`, with the app's current_request). Chalice's own answers (405, 415)
and the local gateway's 404 come before any view and so are unchanged; only the
routes a function actually serves pay for their models and services."""

from collections.abc import Callable
from typing import Any

from chalice import Chalice

from chalicelib.api.route_table import ROUTE_TABLE


def _proxy(app: Chalice, method: str, path: str, module: str, view_name: str, doc: str) -> Callable[..., Any]:
    handle: Callable[..., Any] | None = None

    def view(**uri_params: str) -> Any:
        nonlocal handle
        if handle is None:
            from chalicelib.api.routing import route_handler

            handle = route_handler(module, method, path)
        return handle(app.current_request, uri_params)

    view.__name__ = view.__qualname__ = view_name
    view.__module__ = module
    view.__doc__ = doc or None
    return view


def register(app: Chalice) -> None:
    """Every route of the table on `app`, each loaded on its first call."""
    for method, path, module, view_name, doc in ROUTE_TABLE:
        app.route(path, methods=[method], name=view_name)(_proxy(app, method, path, module, view_name, doc))
