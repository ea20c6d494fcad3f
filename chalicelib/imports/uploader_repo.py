"""SQL of the uploader rule: imports that POST /imports created, drop credentials issued."""

from datetime import datetime
from uuid import UUID

import psycopg


def import_requested_for(conn: psycopg.Connection, *, user_id: UUID, key: str) -> bool:
    """Did POST /imports hand out this very key to this user?"""
    row = conn.execute(
        "SELECT 1 FROM data_sync_logs WHERE user_id = %s AND file_key = %s AND sync_type = 'csv_import' LIMIT 1",
        (user_id, key),
    ).fetchone()
    return row is not None


def drop_credential_owner(
    conn: psycopg.Connection, *, access_key_id: str | None, session_name: str | None
) -> UUID | None:
    """The user drop credentials were issued to, by access key (MinIO) or role session (AWS)."""
    row = conn.execute(
        """SELECT user_id FROM import_drop_credentials
            WHERE access_key_id = %s OR role_session_name = %s
            ORDER BY created_at DESC LIMIT 1""",
        (access_key_id, session_name),
    ).fetchone()
    return row["user_id"] if row else None


def record_drop_credentials(
    conn: psycopg.Connection,
    *,
    access_key_id: str,
    user_id: UUID,
    account_id: UUID | None,
    role_session_name: str,
    expires_at: datetime,
) -> None:
    conn.execute(
        """INSERT INTO import_drop_credentials (access_key_id, user_id, account_id, role_session_name, expires_at)
           VALUES (%s, %s, %s, %s, %s)""",
        (access_key_id, user_id, account_id, role_session_name, expires_at),
    )
