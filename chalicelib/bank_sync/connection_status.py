"""A connection's status and what its owner is told when it changes."""

from datetime import UTC, datetime
from uuid import UUID

import psycopg

from chalicelib.audit.service import record_audit
from chalicelib.bank_sync import repo
from chalicelib.core import caching
from chalicelib.core.actor import Actor
from chalicelib.notifications.service import create_notification

MESSAGES = {
    "login_required": (
        "security",
        "Bank login needed",
        "{institution} needs you to sign in again before it can keep your accounts up to date.",
    ),
    "pending_expiration": (
        "security",
        "Bank access expires soon",
        "Your consent for {institution} expires soon; sign in again to keep your accounts up to date.",
    ),
    "revoked": (
        "security",
        "Bank access revoked",
        "Access to {institution} was revoked; its accounts and their history stay but no longer update.",
    ),
    "error": (
        "system",
        "Bank sync failed",
        "{institution} could not be synced ({code}); we will try again.",
    ),
}


def set_status(
    conn: psycopg.Connection,
    connection: dict,
    *,
    actor: Actor,
    status: str,
    error_code: str | None,
    notice: str | None = None,
    wipe_token: bool = False,
) -> dict:
    """Record the connection's new status; a change (or `notice`) tells its owner once a day."""
    changes: dict = {"status": status, "error_code": error_code}
    if wipe_token:
        changes["access_token_enc"] = None
    row = repo.update_connection(conn, connection["id"], changes)
    notice = notice or (status if status != "active" else None)
    if notice and (status != connection["status"] or notice != status):
        _notify(conn, row, notice=notice, code=error_code)
    if status != connection["status"]:
        record_audit(
            conn,
            actor=actor,
            action=f"bank_connection.{status}",
            resource_type="bank_connection",
            resource_id=row["id"],
            user_id=row["user_id"],
            data={"from": connection["status"], "to": status, "error_code": error_code},
        )
        caching.invalidate_visible_to(conn, owner_id=row["user_id"], family_id=row["family_id"])
    return row


def _notify(conn: psycopg.Connection, row: dict, *, notice: str, code: str | None) -> UUID | None:
    type_, title, message = MESSAGES[notice]
    day = datetime.now(UTC).date().isoformat()
    return create_notification(
        conn,
        user_id=row["user_id"],
        type=type_,
        title=title,
        message=message.format(institution=row["institution_name"] or "Your bank", code=code or "unknown"),
        data={"bank_connection_id": row["id"], "status": row["status"], "error_code": code},
        priority="high" if type_ == "security" else "normal",
        dedupe_key=f"bank_connection:{row['id']}:{notice}:{code or ''}:{day}",
    )
