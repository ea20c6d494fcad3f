"""The app's websocket_api, handed to the push path without loading it: app.py binds it
at import time in every function, and the publisher (Redis, PostgreSQL and the dashboard
behind it) is imported only when something is first published or invalidated."""

from collections.abc import Iterable
from typing import Any
from uuid import UUID

_websocket_api: Any = None


def bind(websocket_api: Any) -> None:
    """Send through this websocket_api; until then nothing is pushed."""
    global _websocket_api
    from chalicelib.infra import invalidation

    _websocket_api = websocket_api
    invalidation.on_invalidate(_dashboards_changed)


def websocket_api() -> Any:
    return _websocket_api


def _dashboards_changed(user_ids: Iterable[UUID]) -> None:
    from chalicelib.live import publisher

    publisher.dashboard_changed(user_ids)
