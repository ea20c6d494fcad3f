"""SQL of the notification feed. Expired notifications (expires_at passed) are never
listed, counted or marked."""

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

_COLUMNS = "id, type, title, message, COALESCE(data, '{}') AS data, priority, read_at, created_at, expires_at"
# What an INSERT INTO notifications returns so the new rows can be announced (service.announce_created).
RETURNING = f"RETURNING user_id, {_COLUMNS}"
_LIVE = "(expires_at IS NULL OR expires_at > now())"


def list_for_user(
    conn: psycopg.Connection,
    *,
    user_id: UUID,
    unread: bool | None,
    type: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    conditions = [sql.SQL("user_id = {}").format(sql.Literal(user_id)), sql.SQL(_LIVE)]
    if unread is True:
        conditions.append(sql.SQL("read_at IS NULL"))
    elif unread is False:
        conditions.append(sql.SQL("read_at IS NOT NULL"))
    if type is not None:
        conditions.append(sql.SQL("type = {}").format(sql.Literal(type)))
    if after is not None:
        conditions.append(sql.SQL("(created_at, id) < ({}, {})").format(sql.Literal(after[0]), sql.Literal(after[1])))
    query = sql.SQL("SELECT {cols} FROM notifications WHERE {where} ORDER BY created_at DESC, id DESC LIMIT {n}")
    return conn.execute(
        query.format(cols=sql.SQL(_COLUMNS), where=sql.SQL(" AND ").join(conditions), n=sql.Literal(limit + 1))
    ).fetchall()


def unread_count(conn: psycopg.Connection, *, user_id: UUID) -> int:
    return conn.execute(
        f"SELECT count(*) AS n FROM notifications WHERE user_id = %s AND read_at IS NULL AND {_LIVE}", (user_id,)
    ).fetchone()["n"]


def mark_read(conn: psycopg.Connection, *, user_id: UUID, notification_id: UUID) -> dict[str, Any] | None:
    # COALESCE keeps the first read time when the same notification is read twice.
    return conn.execute(
        f"""UPDATE notifications SET read_at = COALESCE(read_at, now())
             WHERE id = %s AND user_id = %s AND {_LIVE} RETURNING {_COLUMNS}""",
        (notification_id, user_id),
    ).fetchone()


def mark_all_read(conn: psycopg.Connection, *, user_id: UUID) -> int:
    return conn.execute(
        f"UPDATE notifications SET read_at = now() WHERE user_id = %s AND read_at IS NULL AND {_LIVE}", (user_id,)
    ).rowcount
