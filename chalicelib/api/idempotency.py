"""Idempotency-Key for every authenticated POST and PATCH (API.md "Retried writes").

The first request takes a transaction-scoped advisory lock on (user, key), runs the
view inside that same database transaction (services join it) and stores status and
body before committing: the record exists exactly when the effect does. A request
that finds the lock taken answers 409 request_in_progress; one that finds the record
replays it or, for another method/path/body, answers 422. So however many identical
requests race, exactly one takes effect.

A request that fails with a domain error keeps what its completed units of work wrote
(the audit row of a failed attempt), as it would without the header, and stores no
record: a retry runs again.

Every stored reply is encrypted (AES-256-GCM, like the fields at rest): a reply repeats
what the route returned, and nearly every route returns personal data — PATCH /users/me
left phone and date of birth in clear here (issue 16). Replies stored in clear before
that still replay until they expire.
"""

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

from psycopg.types.json import Jsonb

from chalicelib.api.context import RequestContext
from chalicelib.errors import Conflict, DomainError, IdempotencyKeyReused, ValidationFailed
from chalicelib.infra import crypto, db

REPLAY_HEADER = "Idempotent-Replayed"
_ENCRYPTED = "encrypted_response"
_CONTEXT = "idempotency_keys.response_body"


def _stored_body(body: Any) -> Any:
    if body is None:
        return body
    blob = crypto.encrypt(json.dumps(body, separators=(",", ":")), context=_CONTEXT)
    return {_ENCRYPTED: base64.b64encode(blob).decode()}


def _replayed_body(stored: Any) -> Any:
    if isinstance(stored, dict) and set(stored) == {_ENCRYPTED}:
        return json.loads(crypto.decrypt(base64.b64decode(stored[_ENCRYPTED]), context=_CONTEXT))
    return stored


def _check_key(key: str) -> None:
    if not 1 <= len(key) <= 255 or any(not (0x20 < ord(ch) < 0x7F) for ch in key):
        raise ValidationFailed.field("Idempotency-Key", "must be 1-255 printable ASCII characters")


def request_fingerprint(method: str, path: str, raw_body: bytes) -> str:
    try:
        body = json.dumps(json.loads(raw_body), sort_keys=True, separators=(",", ":")) if raw_body.strip() else ""
    except (ValueError, UnicodeDecodeError):
        body = raw_body.hex()
    return hashlib.sha256(f"{method}\n{path}\n{body}".encode()).hexdigest()


def run(
    ctx: RequestContext,
    *,
    key: str,
    raw_body: bytes,
    call: Callable[[], tuple[int, Any, dict[str, str]]],
) -> tuple[int, Any, dict[str, str]]:
    _check_key(key)
    fingerprint = request_fingerprint(ctx.method, ctx.path, raw_body)
    with db.transaction() as conn:
        locked = conn.execute(
            "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0)) AS ok", (f"idem:{ctx.user_id}:{key}",)
        ).fetchone()["ok"]
        if not locked:
            raise Conflict("A request with this Idempotency-Key is still running", code="request_in_progress")
        row = conn.execute(
            """SELECT method, path, request_hash, status_code, response_body
                 FROM idempotency_keys
                WHERE user_id = %s AND idempotency_key = %s AND expires_at > now()""",
            (ctx.user_id, key),
        ).fetchone()
        if row is not None:
            if (row["method"], row["path"], row["request_hash"]) != (ctx.method, ctx.path, fingerprint):
                raise IdempotencyKeyReused("This Idempotency-Key was used with another request")
            return row["status_code"], _replayed_body(row["response_body"]), {REPLAY_HEADER: "true"}
        try:
            status, body, headers = call()
        except DomainError as exc:
            failure = exc
        else:
            failure = None
            _store(conn, ctx, key, fingerprint, status, _stored_body(body))
    if failure is not None:
        raise failure
    return status, body, headers


def _store(conn, ctx: RequestContext, key: str, fingerprint: str, status: int, body: Any) -> None:
    conn.execute(
        """INSERT INTO idempotency_keys
                   (user_id, idempotency_key, method, path, request_hash, status_code, response_body)
               VALUES (%s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (user_id, idempotency_key) DO UPDATE
                   SET method = EXCLUDED.method, path = EXCLUDED.path, request_hash = EXCLUDED.request_hash,
                       status_code = EXCLUDED.status_code, response_body = EXCLUDED.response_body,
                       created_at = now(), expires_at = now() + INTERVAL '48 hours'""",
        (ctx.user_id, key, ctx.method, ctx.path, fingerprint, status, Jsonb(body) if body is not None else None),
    )
