"""SQL over export_jobs: the state of every export and its transitions."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

import psycopg

from chalicelib.infra import db

_COLUMNS = """id, user_id, family_id, account_id, format, date_from, date_to, include_archived, status,
              row_count, size_bytes, file_key, error_message, created_at, started_at, completed_at, purged_at"""


def insert_job(
    conn: psycopg.Connection,
    *,
    user_id: UUID,
    format: str,
    date_from: date,
    date_to: date,
    account_id: UUID | None,
    family_id: UUID | None,
    include_archived: bool,
) -> dict[str, Any]:
    return conn.execute(
        f"""INSERT INTO export_jobs (user_id, format, date_from, date_to, account_id, family_id, include_archived)
            VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}""",
        (user_id, format, date_from, date_to, account_id, family_id, include_archived),
    ).fetchone()


def get_job(conn: psycopg.Connection, *, job_id: UUID, user_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {_COLUMNS} FROM export_jobs WHERE id = %s AND user_id = %s", (job_id, user_id)
    ).fetchone()


def list_jobs(
    conn: psycopg.Connection, *, user_id: UUID, limit: int, after: tuple[datetime, UUID] | None
) -> list[dict[str, Any]]:
    if after is None:
        return conn.execute(
            f"""SELECT {_COLUMNS} FROM export_jobs WHERE user_id = %s
                 ORDER BY created_at DESC, id DESC LIMIT %s""",
            (user_id, limit),
        ).fetchall()
    return conn.execute(
        f"""SELECT {_COLUMNS} FROM export_jobs WHERE user_id = %s AND (created_at, id) < (%s, %s)
             ORDER BY created_at DESC, id DESC LIMIT %s""",
        (user_id, *after, limit),
    ).fetchall()


def claim_job(conn: psycopg.Connection, *, job_id: UUID, user_id: UUID) -> dict[str, Any] | None:
    """pending -> in_progress; None when another delivery of the event already took it."""
    return conn.execute(
        f"""UPDATE export_jobs SET status = 'in_progress', started_at = now()
             WHERE id = %s AND user_id = %s AND status = 'pending' RETURNING {_COLUMNS}""",
        (job_id, user_id),
    ).fetchone()


def job_status(conn: psycopg.Connection, *, job_id: UUID, user_id: UUID) -> str | None:
    row = conn.execute("SELECT status FROM export_jobs WHERE id = %s AND user_id = %s", (job_id, user_id)).fetchone()
    return row["status"] if row else None


def record_progress(*, job_id: UUID, rows: int) -> None:
    """Publish the rows written so far from a short transaction of its own.

    The build reads through a server-side cursor inside a long transaction; progress
    written there would stay invisible until the end, so it goes through another
    pooled connection (db.transaction() would join the open unit of work instead)."""
    with db.pool().connection() as conn:
        conn.execute("UPDATE export_jobs SET row_count = %s WHERE id = %s AND status = 'in_progress'", (rows, job_id))


def complete_job(*, job_id: UUID, rows: int, size_bytes: int, file_key: str) -> bool:
    with db.transaction() as conn:
        row = conn.execute(
            """UPDATE export_jobs SET status = 'completed', row_count = %s, size_bytes = %s, file_key = %s,
                                      completed_at = now(), error_message = NULL
                WHERE id = %s AND status = 'in_progress' RETURNING id""",
            (rows, size_bytes, file_key, job_id),
        ).fetchone()
    return row is not None


def fail_job(*, job_id: UUID, message: str) -> None:
    with db.transaction() as conn:
        conn.execute(
            """UPDATE export_jobs SET status = 'failed', error_message = %s, completed_at = now(),
                                      file_key = NULL, size_bytes = NULL
                WHERE id = %s AND status IN ('pending', 'in_progress')""",
            (message[:1000], job_id),
        )


def expired_jobs(
    conn: psycopg.Connection, *, before: datetime, limit: int, after: tuple[datetime, UUID] | None = None
) -> list[dict[str, Any]]:
    """Jobs older than `before` whose objects were not purged yet, oldest first, keyset-paged."""
    if after is None:
        return conn.execute(
            """SELECT id, user_id, created_at FROM export_jobs WHERE purged_at IS NULL AND created_at < %s
                ORDER BY created_at, id LIMIT %s""",
            (before, limit),
        ).fetchall()
    return conn.execute(
        """SELECT id, user_id, created_at FROM export_jobs
            WHERE purged_at IS NULL AND created_at < %s AND (created_at, id) > (%s, %s)
            ORDER BY created_at, id LIMIT %s""",
        (before, *after, limit),
    ).fetchall()


def mark_purged(conn: psycopg.Connection, *, job_ids: list[UUID]) -> None:
    conn.execute(
        """UPDATE export_jobs SET purged_at = now(),
                  status = CASE WHEN status IN ('pending', 'in_progress') THEN 'failed' ELSE status END,
                  error_message = CASE WHEN status IN ('pending', 'in_progress')
                                       THEN 'expired before it was built' ELSE error_message END
            WHERE id = ANY(%s)""",
        (job_ids,),
    )


def fail_stalled_jobs(conn: psycopg.Connection, *, started_before: datetime, dry_run: bool) -> int:
    """Builds that died without reporting (a killed function) would stay in_progress forever."""
    if dry_run:
        return conn.execute(
            "SELECT count(*) AS n FROM export_jobs WHERE status = 'in_progress' AND started_at < %s",
            (started_before,),
        ).fetchone()["n"]
    return conn.execute(
        """UPDATE export_jobs SET status = 'failed', completed_at = now(),
                  error_message = 'the build stopped without finishing; request the export again'
            WHERE status = 'in_progress' AND started_at < %s""",
        (started_before,),
    ).rowcount
