"""The notification feed. Only services create notifications; clients list, count and
mark them read. Every change bumps the user's cache generation (the dashboard shows the
unread count)."""

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb
from pydantic_core import to_jsonable_python

from chalicelib.core.caching import invalidate_users
from chalicelib.core.paging import decode_created, page
from chalicelib.errors import NotFound
from chalicelib.infra import db
from chalicelib.live import hooks as live_hooks
from chalicelib.notifications import repo
from chalicelib.notifications.models import NotificationOut

# The RETURNING clause of an INSERT INTO notifications whose rows go to announce_created.
RETURNING = repo.RETURNING
NOTIFICATION_TYPES = ("budget_alert", "goal_milestone", "unusual_spending", "bill_reminder", "system", "security")


def create_notification(
    conn: psycopg.Connection,
    *,
    user_id: UUID,
    type: str,
    title: str,
    message: str,
    data: dict[str, Any] | None = None,
    priority: str = "normal",
    dedupe_key: str | None = None,
    expires_at: datetime | None = None,
) -> UUID | None:
    """Insert a notification; with a dedupe_key, a second one for the same key is a
    no-op (returns None), also when two producers race."""
    if type not in NOTIFICATION_TYPES:
        raise ValueError(f"unknown notification type {type}")
    row = conn.execute(
        """INSERT INTO notifications (user_id, type, title, message, data, priority, dedupe_key, expires_at, sent_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now())
           ON CONFLICT (user_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
           """
        + repo.RETURNING,
        (user_id, type, title[:255], message, Jsonb(to_jsonable_python(data or {})), priority, dedupe_key, expires_at),
    ).fetchone()
    if row is None:
        return None
    invalidate_users([user_id])
    announce_created([row])
    return row["id"]


def announce_created(rows: list[dict[str, Any]]) -> None:
    """notification.created to each recipient once the insert commits (rows as
    repo.RETURNING gives them)."""
    for row in rows:
        out = NotificationOut.model_validate({k: v for k, v in row.items() if k != "user_id"})
        live_hooks.notification_created(user_id=row["user_id"], notification=out)


def list_notifications(
    *, user_id: UUID, unread: bool | None, type: str | None, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The caller's live notifications, newest first."""
    after = decode_created(cursor)
    with db.transaction() as conn:
        rows = repo.list_for_user(conn, user_id=user_id, unread=unread, type=type, after=after, limit=limit)
    return page(rows, limit)


def unread_count(*, user_id: UUID) -> int:
    """How many live notifications the caller has not read."""
    with db.transaction() as conn:
        return repo.unread_count(conn, user_id=user_id)


def mark_read(*, user_id: UUID, notification_id: UUID) -> dict[str, Any]:
    """Mark one of the caller's notifications read (reading it again changes nothing)."""
    with db.transaction() as conn:
        row = repo.mark_read(conn, user_id=user_id, notification_id=notification_id)
        if row is None:
            raise NotFound("Notification not found")
        invalidate_users([user_id])
        return row


def mark_all_read(*, user_id: UUID) -> None:
    """Mark every live notification of the caller read."""
    with db.transaction() as conn:
        if repo.mark_all_read(conn, user_id=user_id):
            invalidate_users([user_id])
