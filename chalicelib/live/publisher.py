"""The push path: changes are gathered in the unit of work (db.collect_after_commit)
and, once it commits, delivered through `app.websocket_api.send` to the connections of
everyone in their audience who subscribed to the topic. Never before the commit, never
for a rolled-back change; a gone connection leaves the registry.

Where delivery runs: with a push function configured (`live_push_function`), the writer
only hands its pushes over (audience, topic, ready frame; dashboards are built later) in
one asynchronous invoke of that function (live.handoff), which delivers them with
`_deliver` in its own process; without one, `_deliver` runs in the writer's process.
Either way the same `_deliver` sends.

Best effort and bounded: the hand-off (or the delivery) runs on a worker thread; the write
waits for it at most `live_push_wait_ms`; a hand-off that fails is logged and its pushes
dropped; a push not sent `live_push_deadline_ms` after the commit is dropped. Redis down
(no registry) means nothing is pushed and nothing else changes."""

import json
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from chalice.app import WebsocketDisconnectedError

from chalicelib.infra import cache, db
from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings
from chalicelib.live import binding, figures, handoff, registry
from chalicelib.live.topics import frame


@dataclass(frozen=True)
class Push:
    user_ids: frozenset[UUID]
    topic: str
    message: str | None  # None: a dashboard, built per recipient after the commit


_pools: dict[str, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def bind(websocket_api: Any) -> None:
    """Send through this app's websocket_api (app.py); until then nothing is pushed."""
    binding.bind(websocket_api)


def publish(*, user_ids: Iterable[UUID], topic: str, type: str, data: Any) -> None:
    """Push {"type", "data"} to these users' connections once the unit of work commits."""
    users = frozenset(user_ids)
    if binding.websocket_api() is not None and users:
        db.collect_after_commit("live", Push(users, topic, frame(type, data)), _flush)


def dashboard_changed(user_ids: Iterable[UUID]) -> None:
    """These users' dashboards may have moved: push their new figures after the commit."""
    users = frozenset(user_ids)
    if binding.websocket_api() is not None and users:
        db.collect_after_commit("live", Push(users, "dashboard", None), _flush)


def _pool(name: str, workers: int) -> ThreadPoolExecutor:
    with _pools_lock:
        if name not in _pools:
            _pools[name] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"live-{name}")
        return _pools[name]


def _flush(items: list[Push]) -> None:
    api = binding.websocket_api()
    if api is None or getattr(api, "endpoint", None) is None or cache.client() is None:
        return
    settings = get_settings()
    # Wall-clock time: the deadline travels with a hand-off to another process.
    deadline = time.time() + settings.live_push_deadline_ms / 1000
    work = _hand_off if settings.live_push_function else _deliver_after
    if settings.live_push_wait_ms:
        future = _pool("deliver", 4).submit(work, items, deadline, None)
        wait_for([future], timeout=settings.live_push_wait_ms / 1000)
    else:
        _pool("deliver", 4).submit(work, items, deadline, binding.response_ready())


# How long delivery waits for its request's response to be built before going ahead anyway.
RESPONSE_GRACE_SECONDS = 0.05


def _hand_off(items: list[Push], deadline: float, response_ready: threading.Event | None) -> None:
    """Give these pushes to the push function in one invoke; a failure drops them."""
    if response_ready is not None:
        response_ready.wait(RESPONSE_GRACE_SECONDS)
    function = get_settings().live_push_function
    try:
        # Most writes have nobody listening: one EXISTS spares them the invoke.
        if not registry.anyone_connected(u for item in items for u in item.user_ids):
            return
        payload = encode(items, deadline)
        if len(payload) > handoff.MAX_PAYLOAD_BYTES:
            # Lambda refuses an event this large: these go out from here, as without a push function.
            _deliver(items, deadline)
            return
        handoff.invoke(function, payload)
    except Exception as exc:
        logger.warning(
            "live hand-off failed, its pushes are dropped",
            extra={"function": function, "pushes": len(items), "error": type(exc).__name__},
        )


def encode(items: list[Push], deadline: float) -> bytes:
    """The push function's event: what was gathered, and the deadline (epoch seconds)."""
    pushes = [{"users": sorted(str(u) for u in i.user_ids), "topic": i.topic, "message": i.message} for i in items]
    return json.dumps({"deadline": deadline, "pushes": pushes}, separators=(",", ":")).encode()


def decode(event: dict[str, Any]) -> tuple[list[Push], float]:
    items = [
        Push(frozenset(UUID(u) for u in p["users"]), p["topic"], p.get("message")) for p in event.get("pushes", ())
    ]
    return items, float(event["deadline"])


def deliver_handed_off(event: dict[str, Any]) -> dict[str, int]:
    """The push function: deliver what a writer handed over, until its deadline."""
    try:
        items, deadline = decode(event)
    except (KeyError, TypeError, ValueError):
        logger.warning("live push event not understood, dropped")
        return {"pushes": 0}
    api = binding.websocket_api()
    if items and api is not None and getattr(api, "endpoint", None) is not None:
        _deliver(items, deadline)
    return {"pushes": len(items)}


def _deliver_after(items: list[Push], deadline: float, response_ready: threading.Event | None) -> None:
    if response_ready is not None:
        response_ready.wait(RESPONSE_GRACE_SECONDS)
    _deliver(items, deadline)


def _deliver(items: list[Push], deadline: float) -> None:
    """Every push to the subscribed connections of its audience; the one delivery path,
    in the writer's process or in the push function's."""
    try:
        connections = registry.connections_of(u for item in items for u in item.user_ids)
        if not connections:
            return
        by_user: dict[UUID, list[registry.Connection]] = {}
        for conn in connections:
            by_user.setdefault(conn.user_id, []).append(conn)
        frames: list[tuple[registry.Connection, str]] = []
        dashboards: dict[UUID, list[registry.Connection]] = {}
        for item in items:
            for user_id in item.user_ids:
                targets = [c for c in by_user.get(user_id, ()) if item.topic in c.topics]
                if not targets:
                    continue
                if item.message is None:
                    dashboards[user_id] = targets
                else:
                    frames.extend((c, item.message) for c in targets)
        pool = _pool("send", get_settings().live_push_workers)
        # Ready frames leave at once; the dashboards' figures are built meanwhile, for all
        # recipients together (live.figures), and their frames follow.
        sent = [pool.submit(_send_to, c, message, deadline) for c, message in frames]
        if dashboards and time.time() < deadline:
            for user_id, message in dashboard_frames(sorted(dashboards)).items():
                sent.extend(pool.submit(_send_to, c, message, deadline) for c in dashboards[user_id])
        wait_for(sent)
    except Exception:
        logger.exception("live push failed")


def _send_to(conn: registry.Connection, message: str, deadline: float) -> bool:
    return send(conn.connection_id, message, user_id=conn.user_id, deadline=deadline)


def dashboard_frames(user_ids: list[UUID]) -> dict[UUID, str]:
    """The dashboard.updated frame of each of these users whose figures moved."""
    return figures.dashboard_frames(user_ids)


def send(connection_id: str, message: str, *, user_id: UUID | None = None, deadline: float | None = None) -> bool:
    """One frame to one connection; a gone connection is dropped from the registry."""
    api = binding.websocket_api()
    if api is None:
        return False
    if deadline is not None and time.time() > deadline:
        logger.warning("live push dropped after its deadline", extra={"connection_id": connection_id})
        return False
    try:
        api.send(connection_id, message)
        return True
    except WebsocketDisconnectedError:
        registry.remove(connection_id, user_id)
    except Exception as exc:
        logger.warning("live push failed", extra={"connection_id": connection_id, "error": type(exc).__name__})
    return False
