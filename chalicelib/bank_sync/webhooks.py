"""POST /webhooks/plaid: verify the Plaid-Verification JWT, then act on the webhook.

Verification follows Plaid's recipe: ES256 only; the key named by the token's `kid`
comes from /webhook_verification_key/get (cached by kid, refused once expired); `iat`
at most five minutes old; the SHA-256 of the raw body equal to the
`request_body_sha256` claim. A token is accepted once (its digest is claimed in
processed_events in the same transaction as the webhook's effect), so a replay inside
the five minutes is refused too. Anything else is 401 and changes nothing.

The work a webhook asks for (a sync) runs in the background: a small job object under
bank-sync/ triggers the S3 handler, as export jobs do."""

import hashlib
import hmac
import json
import time
from typing import Any
from uuid import UUID, uuid4

import jwt

from chalicelib.bank_sync import connection_status, providers, repo
from chalicelib.bank_sync.provider import BankProvider, ProviderError
from chalicelib.core.actor import Actor
from chalicelib.errors import ServiceUnavailable, Unauthorized
from chalicelib.infra import db, storage
from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings

ACTOR = Actor.system("plaid-webhook")
JOB_PREFIX = "bank-sync/"
_keys: dict[str, dict[str, Any]] = {}  # kid -> JWK, for the life of the process
SYNC_CODES = {"SYNC_UPDATES_AVAILABLE", "DEFAULT_UPDATE", "INITIAL_UPDATE", "HISTORICAL_UPDATE"}


def _refuse(reason: str) -> Unauthorized:
    logger.warning("plaid webhook refused", extra={"reason": reason})
    return Unauthorized("The webhook's Plaid-Verification signature is missing or not valid")


def _key(kid: str, provider: BankProvider) -> dict[str, Any]:
    key = _keys.get(kid)
    if key is None:
        try:
            key = provider.webhook_verification_key(kid)
        except ProviderError as exc:
            if exc.kind == "unavailable":
                raise ServiceUnavailable("The bank provider is unavailable; the webhook can be sent again") from None
            raise _refuse(f"no key {kid}: {exc.code}") from None
        _keys[kid] = key
    if key.get("expired_at") is not None:
        raise _refuse("key expired")
    return key


def verify(raw_body: bytes, token: str | None, *, provider: BankProvider) -> dict[str, Any]:
    """The token's claims when it proves this body came from Plaid just now; 401 otherwise."""
    if not token:
        raise _refuse("no Plaid-Verification header")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _refuse("not a JWT") from None
    if header.get("alg") != "ES256" or not isinstance(header.get("kid"), str):
        raise _refuse(f"algorithm {header.get('alg')!r}")
    jwk = _key(header["kid"], provider)
    try:
        public_key = jwt.PyJWK({k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y", "alg", "kid", "use")})
        claims = jwt.decode(token, public_key.key, algorithms=["ES256"], options={"require": ["iat"]})
    except jwt.PyJWTError as exc:
        raise _refuse(f"signature: {type(exc).__name__}") from None
    age = time.time() - float(claims["iat"])
    if age > get_settings().plaid_webhook_max_age_seconds:
        raise _refuse(f"stale: {int(age)} s old")
    expected = hashlib.sha256(raw_body).hexdigest()
    if not hmac.compare_digest(str(claims.get("request_body_sha256", "")), expected):
        raise _refuse("body digest differs")
    return claims


def request_sync(*, connection_id: UUID, reason: str) -> str:
    """Hand a sync of this connection to the background function."""
    key = f"{JOB_PREFIX}{connection_id}/{uuid4()}.json"
    try:
        storage.put_bytes(key, json.dumps({"reason": reason}).encode(), content_type="application/json")
    except Exception as exc:
        logger.warning("bank sync job object not written", extra={"error": type(exc).__name__})
        raise ServiceUnavailable("File storage is unavailable; try again shortly") from None
    return key


def parse_job_key(key: str) -> UUID | None:
    parts = key.split("/")
    if len(parts) != 3 or parts[0] + "/" != JOB_PREFIX or not parts[2].endswith(".json"):
        return None
    try:
        return UUID(parts[1])
    except ValueError:
        return None


def handle_webhook(*, raw_body: bytes, verification: str | None) -> dict[str, Any]:
    """Verify and act on one Plaid webhook."""
    provider = providers.provider()
    verify(raw_body, verification, provider=provider)
    try:
        payload = json.loads(raw_body)
    except ValueError:
        raise _refuse("body is not JSON") from None
    if not isinstance(payload, dict):
        raise _refuse("body is not a JSON object")
    webhook_type, code = str(payload.get("webhook_type", "")), str(payload.get("webhook_code", ""))
    with db.transaction() as conn:
        if not repo.claim_event(conn, event_key=f"plaid-webhook:{hashlib.sha256(verification.encode()).hexdigest()}",
                                handler="bank_sync_webhook"):  # fmt: skip
            raise _refuse("replayed")
        connection = repo.find_by_item(conn, provider="plaid", item_id=str(payload.get("item_id", "")))
        if connection is None or connection["removed_at"] is not None:
            return {"status": "ignored"}
        connection = repo.update_connection(conn, connection["id"], {"last_webhook_at": _now()})
        action = _act(conn, connection, webhook_type, code, payload)
    logger.info("plaid webhook", extra={"type": webhook_type, "code": code, "action": action,
                                        "connection_id": str(connection["id"])})  # fmt: skip
    return {"status": action}


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _act(conn, connection: dict, webhook_type: str, code: str, payload: dict) -> str:
    error_code = (payload.get("error") or {}).get("error_code") if isinstance(payload.get("error"), dict) else None
    if webhook_type == "TRANSACTIONS" and code in SYNC_CODES:
        if connection["access_token_enc"] is None:
            return "ignored"
        # Written before the commit: storage down means 503 and Plaid sends the webhook again.
        request_sync(connection_id=connection["id"], reason=f"webhook:{code}")
        return "sync_requested"
    if webhook_type != "ITEM":
        return "ignored"
    if code == "ITEM_LOGIN_REQUIRED" or (code == "ERROR" and error_code == "ITEM_LOGIN_REQUIRED"):
        connection_status.set_status(
            conn, connection, actor=ACTOR, status="login_required", error_code="ITEM_LOGIN_REQUIRED"
        )
        return "login_required"
    if code == "ERROR":
        connection_status.set_status(conn, connection, actor=ACTOR, status="error", error_code=error_code or "ERROR")
        return "error"
    if code in ("PENDING_EXPIRATION", "PENDING_DISCONNECT"):
        connection_status.set_status(
            conn, connection, actor=ACTOR, status="login_required", error_code=code, notice="pending_expiration"
        )
        return "login_required"
    if code in ("USER_PERMISSION_REVOKED", "USER_ACCOUNT_REVOKED"):
        connection_status.set_status(conn, connection, actor=ACTOR, status="revoked", error_code=code, wipe_token=True)
        return "revoked"
    if code == "LOGIN_REPAIRED" and connection["status"] in ("login_required", "error"):
        connection_status.set_status(conn, connection, actor=ACTOR, status="active", error_code=None)
        return "active"
    return "ignored"
