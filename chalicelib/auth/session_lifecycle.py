"""Sessions from sign-in to sign-out, and refresh-token rotation.

Model: one user_sessions row per sign-in, living `session_ttl_days` from that sign-in
(rotation does not extend it). The row holds the SHA-256 digest of its one live refresh
token; each refresh swaps in a new digest and files the old one in spent_refresh_tokens.
Every token ever issued for a sign-in therefore descends from it and maps back to it, so
"revoke every session descended from a reused token" is "revoke that row".

A spent token presented again means two parties hold the chain (the RFC 6819 / OAuth
security BCP reuse signal): the session is revoked, its owner gets a `security`
notification and the audit trail records it. Two racing refreshes with the same token
count as reuse too; the losing client signs in again, which is the safe side."""

import ipaddress
import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID

import psycopg

from chalicelib.auth import repo
from chalicelib.auth.events import audit, notify_security
from chalicelib.auth.models import SessionList, SessionOut, TokenPairOut
from chalicelib.auth.sessions import forget_sessions
from chalicelib.auth.tokens import ACCESS_TOKEN_TTL, issue_access_token
from chalicelib.core.actor import Actor
from chalicelib.errors import NotFound, Unauthorized
from chalicelib.infra import crypto, db
from chalicelib.infra.settings import get_settings


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)  # 256 random bits


def token_pair(*, user_id: UUID, session_id: UUID, refresh_token: str) -> TokenPairOut:
    return TokenPairOut(
        access_token=issue_access_token(user_id=user_id, session_id=session_id),
        refresh_token=refresh_token,
        expires_in=int(ACCESS_TOKEN_TTL.total_seconds()),
    )


def start_session(
    conn: psycopg.Connection, *, actor: Actor, user_id: UUID, device_name: str | None
) -> tuple[UUID, TokenPairOut, bool]:
    """Open a session for a user who just proved who they are: (id, tokens, new device?)."""
    device_hash = crypto.lookup_hash(f"device:{device_name or ''}\n{actor.user_agent or ''}")
    known = repo.device_seen_before(conn, user_id=user_id, device_hash=device_hash)
    refresh_token = new_refresh_token()
    session_id = repo.insert_session(
        conn,
        user_id=user_id,
        refresh_digest=crypto.token_digest(refresh_token),
        expires_at=datetime.now(UTC) + timedelta(days=get_settings().session_ttl_days),
        device_info={"name": device_name},
        device_hash=device_hash,
        ip_address=_ip(actor.ip_address),
        user_agent=(actor.user_agent or None) and actor.user_agent[:1000],
    )
    return session_id, token_pair(user_id=user_id, session_id=session_id, refresh_token=refresh_token), not known


def refresh(*, actor: Actor, refresh_token: str) -> TokenPairOut:
    """Spend a refresh token for a new pair; a spent one revokes its whole session."""
    digest = crypto.token_digest(refresh_token)
    replacement = new_refresh_token()
    with db.transaction() as conn:
        rotated = repo.rotate_refresh(conn, old_digest=digest, new_digest=crypto.token_digest(replacement))
        if rotated is not None:
            audit(conn, "auth.refresh", actor=actor, user_id=rotated["user_id"], resource_id=rotated["id"])
            return token_pair(user_id=rotated["user_id"], session_id=rotated["id"], refresh_token=replacement)
        failure = _refresh_failure(conn, actor=actor, digest=digest)
    raise failure


def _refresh_failure(conn: psycopg.Connection, *, actor: Actor, digest: str) -> Unauthorized:
    """Why a refresh token did not rotate; records a reuse (committed with the caller's transaction)."""
    found = repo.session_of_refresh(conn, digest=digest)
    if found is None:
        return Unauthorized("The refresh token is not valid")
    if found["spent"]:
        revoked = repo.revoke_sessions(conn, user_id=found["user_id"], only=found["id"], reason="token_reuse")
        forget_sessions(*revoked)
        audit(
            conn,
            "auth.refresh_token_reuse",
            actor=actor,
            user_id=found["user_id"],
            resource_id=found["id"],
            success=False,
            error="spent refresh token presented again",
        )
        notify_security(conn, user_id=found["user_id"], event="token_reuse", dedupe_key=f"token_reuse:{found['id']}")
        return Unauthorized("This refresh token was already used; the session is revoked", code="token_revoked")
    if found["revoked_at"] is not None:
        return Unauthorized("This session has been signed out", code="token_revoked")
    if found["expires_at"] <= datetime.now(UTC):
        return Unauthorized("This session has expired; sign in again", code="token_expired")
    return Unauthorized("The refresh token is not valid")


def logout(*, actor: Actor) -> None:
    """Revoke the calling session."""
    with db.transaction() as conn:
        revoked = repo.revoke_sessions(conn, user_id=actor.user_id, only=actor.session_id, reason="logout")
        forget_sessions(*revoked)
        audit(conn, "auth.logout", actor=actor, user_id=actor.user_id, resource_id=actor.session_id)


def logout_all(*, actor: Actor) -> None:
    """Revoke every session of the caller, this one included."""
    with db.transaction() as conn:
        revoked = repo.revoke_sessions(conn, user_id=actor.user_id, reason="logout_all")
        forget_sessions(*revoked)
        audit(conn, "auth.logout_all", actor=actor, user_id=actor.user_id, data={"sessions_revoked": len(revoked)})


def list_sessions(*, actor: Actor) -> SessionList:
    """The caller's live sessions, the calling one marked current."""
    with db.transaction() as conn:
        rows = repo.live_sessions(conn, user_id=actor.user_id)
    current = actor.session_id
    return SessionList(items=[SessionOut(**row, current=row["id"] == current) for row in rows])


def revoke_session(*, actor: Actor, session_id: UUID) -> None:
    """Revoke one of the caller's sessions; someone else's reads as not found."""
    with db.transaction() as conn:
        revoked = repo.revoke_sessions(conn, user_id=actor.user_id, only=session_id, reason="revoked")
        if not revoked:
            raise NotFound("Session not found")
        forget_sessions(*revoked)
        audit(conn, "auth.session_revoked", actor=actor, user_id=actor.user_id, resource_id=session_id)


def revoke_other_sessions(conn: psycopg.Connection, *, user_id: UUID, keep: UUID | None, reason: str) -> int:
    revoked = repo.revoke_sessions(conn, user_id=user_id, keep=keep, reason=reason)
    forget_sessions(*revoked)
    return len(revoked)


def _ip(address: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None
