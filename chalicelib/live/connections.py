"""The three WebSocket routes as use cases: $connect authenticates exactly like a
request (signature, expiry, live session) from the `token` query parameter, since
browsers cannot set headers on a WebSocket; $default answers ping and subscribe;
$disconnect forgets the connection. Replies go back through websocket_api.send."""

import json
from typing import Any

from chalicelib.auth.sessions import session_is_active
from chalicelib.auth.tokens import decode_access_token
from chalicelib.errors import Unauthorized
from chalicelib.live import publisher, registry
from chalicelib.live.topics import TOPICS, error_frame, frame

OK = {"statusCode": 200}


def _refused(code: str, message: str) -> dict[str, Any]:
    body = {"error": {"code": code, "message": message, "details": []}}
    return {"statusCode": 401, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def open_connection(*, connection_id: str, query: dict[str, str] | None) -> dict[str, Any]:
    """$connect: accept a valid, live access token; refuse anything else (401)."""
    token = (query or {}).get("token", "").strip()
    if not token:
        return _refused("unauthorized", "An access token is required (?token=)")
    try:
        user_id, session_id = decode_access_token(token)
    except Unauthorized as exc:
        return _refused(exc.code, exc.message)
    if not session_is_active(user_id=user_id, session_id=session_id):
        return _refused("token_revoked", "This session has been signed out")
    # Redis down: the connection is accepted and simply receives nothing.
    registry.add(connection_id=connection_id, user_id=user_id)
    return OK


def handle_message(*, connection_id: str, body: str | None) -> dict[str, Any]:
    """$default: {"action": "ping"} or {"action": "subscribe", "topics": [...]}; anything
    else gets an error frame."""
    publisher.send(connection_id, _answer(connection_id, body))
    return OK


def _answer(connection_id: str, body: str | None) -> str:
    try:
        message = json.loads(body or "")
    except ValueError:
        return error_frame("invalid_message", "Messages are JSON objects with an action")
    if not isinstance(message, dict) or message.get("action") not in ("ping", "subscribe"):
        return error_frame("unknown_action", "The action must be ping or subscribe")
    conn = registry.get(connection_id)
    if message["action"] == "ping":
        if conn is not None:
            registry.refresh(conn)
        return frame("pong", {})
    topics = message.get("topics")
    if not isinstance(topics, list) or not topics or any(t not in TOPICS for t in topics):
        return error_frame("validation_error", f"topics must be a non-empty list of {', '.join(TOPICS)}")
    if conn is not None:
        registry.set_topics(conn, topics)
    return frame("subscribed", {"topics": sorted(set(topics))})


def close_connection(*, connection_id: str) -> dict[str, Any]:
    """$disconnect: the connection leaves ws_connections:{user_id}."""
    registry.remove(connection_id)
    return OK
