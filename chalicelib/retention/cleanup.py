"""Deletion of rows past their retention, in small batches.

Each batch is one short transaction that locks at most retention_batch_size rows (picked
by an index range, SKIP LOCKED), so no batch holds locks for long, a second run at the
same time takes other rows instead of waiting or failing, and a run killed half-way has
committed whole batches and leaves the rest to the next run."""

from dataclasses import dataclass
from datetime import datetime

from psycopg import sql

from chalicelib.infra import db
from chalicelib.infra.settings import get_settings


@dataclass(frozen=True)
class Expiry:
    """Rows of `table` with `column` before the cutoff are past their retention."""

    table: str
    column: str
    cutoff_sql: str  # an expression of %(now)s and settings


def expiries() -> list[Expiry]:
    s = get_settings()
    return [
        # Seven years: the audit trail's legal retention (seed "Data Retention").
        Expiry("audit_logs", "created_at", f"%(now)s - make_interval(years => {int(s.audit_log_retention_years)})"),
        # Expired sessions are kept a while for the security history of the account.
        Expiry(
            "user_sessions", "expires_at", f"%(now)s - make_interval(days => {int(s.expired_session_retention_days)})"
        ),
        Expiry("notifications", "expires_at", "%(now)s"),
        # A replay of an Idempotency-Key is only promised while the key lives (48 hours).
        Expiry("idempotency_keys", "expires_at", "%(now)s"),
        # A verification or reset link past its expiry can never be redeemed; its digest
        # only says a link was once sent.
        Expiry("auth_email_tokens", "expires_at", "%(now)s"),
        # processed_events guard S3 deliveries against being imported twice. Deliveries are
        # retried for hours (Lambda async retries stop after 6 h; an SQS queue keeps a
        # message 14 days at most), so a claim older than 90 days can no longer meet its
        # event again; and an import still skips lines it already holds (fingerprints).
        Expiry(
            "processed_events",
            "processed_at",
            f"%(now)s - make_interval(days => {int(s.processed_event_retention_days)})",
        ),
    ]


def _where(expiry: Expiry) -> sql.Composed:
    return sql.SQL("{} < (" + expiry.cutoff_sql + ")").format(sql.Identifier(expiry.column))


def count_expired(expiry: Expiry, *, now: datetime) -> int:
    with db.transaction() as conn:
        query = sql.SQL("SELECT count(*) AS n FROM {} WHERE ").format(sql.Identifier(expiry.table)) + _where(expiry)
        return conn.execute(query, {"now": now}).fetchone()["n"]


def delete_batch(expiry: Expiry, *, now: datetime, limit: int) -> int:
    """Delete up to `limit` expired rows in one short transaction; the number deleted."""
    table = sql.Identifier(expiry.table)
    query = sql.SQL(
        """DELETE FROM {table} WHERE ctid = ANY(ARRAY(
               SELECT ctid FROM {table} WHERE {where} ORDER BY {column} LIMIT %(limit)s FOR UPDATE SKIP LOCKED))"""
    ).format(table=table, where=_where(expiry), column=sql.Identifier(expiry.column))
    with db.transaction() as conn:
        conn.execute(
            "SELECT set_config('statement_timeout', %s, true)", (str(get_settings().upkeep_statement_timeout_ms),)
        )
        return conn.execute(query, {"now": now, "limit": limit}).rowcount


def delete_expired(expiry: Expiry, *, now: datetime, on_batch=None) -> int:
    """Delete every expired row of one kind, batch after batch; the total deleted."""
    limit = get_settings().retention_batch_size
    total = 0
    while True:
        deleted = delete_batch(expiry, now=now, limit=limit)
        total += deleted
        if on_batch is not None:
            on_batch(expiry.table, deleted)
        if deleted < limit:
            return total
