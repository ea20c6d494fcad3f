"""Creating notifications. Only services create them; clients only read and mark."""

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb
from pydantic_core import to_jsonable_python

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
           RETURNING id""",
        (user_id, type, title[:255], message, Jsonb(to_jsonable_python(data or {})), priority, dedupe_key, expires_at),
    ).fetchone()
    return row["id"] if row else None
