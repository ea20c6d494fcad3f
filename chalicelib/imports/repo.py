"""SQL of the imports domain: import records (data_sync_logs), saved column mappings,
the exactly-once claim, and the set-based write of a statement into transactions."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from chalicelib.categorization.engine import categorization_query
from chalicelib.imports.staging import STAGING_COLUMNS, RowSpool

LOG_COLUMNS = sql.SQL(
    """id, user_id, COALESCE(account_id, (metadata->>'account_id')::uuid) AS account_id, status, sync_type,
       file_key, transactions_added, transactions_updated, transactions_deleted, duplicates_skipped,
       started_at, completed_at, error_message, errors, metadata, created_at"""
)
HANDLER = "imports"


# --- accounts, users, mappings -------------------------------------------------------


def find_account(conn: psycopg.Connection, account_id: UUID) -> dict | None:
    return conn.execute(
        "SELECT id, user_id, family_id, type, currency, is_active FROM accounts WHERE id = %s", (account_id,)
    ).fetchone()


def user_exists(conn: psycopg.Connection, user_id: UUID) -> bool:
    row = conn.execute("SELECT 1 FROM users WHERE id = %s AND deleted_at IS NULL", (user_id,)).fetchone()
    return row is not None


def save_mapping(conn: psycopg.Connection, *, account_id: UUID, mapping: dict, user_id: UUID) -> None:
    conn.execute(
        """INSERT INTO import_mappings (account_id, mapping, updated_by) VALUES (%s, %s, %s)
           ON CONFLICT (account_id) DO UPDATE SET mapping = EXCLUDED.mapping, updated_by = EXCLUDED.updated_by,
                                                  updated_at = now()""",
        (account_id, Jsonb(mapping), user_id),
    )


def load_mapping(conn: psycopg.Connection, account_id: UUID) -> dict | None:
    row = conn.execute("SELECT mapping FROM import_mappings WHERE account_id = %s", (account_id,)).fetchone()
    return row["mapping"] if row else None


# --- import records --------------------------------------------------------------------


def insert_log(
    conn: psycopg.Connection,
    *,
    user_id: UUID,
    account_id: UUID | None,
    status: str,
    file_key: str,
    metadata: dict[str, Any],
    log_id: UUID | None = None,
) -> dict:
    return conn.execute(
        sql.SQL(
            """INSERT INTO data_sync_logs (id, user_id, account_id, sync_type, status, started_at, file_key, metadata)
               VALUES (COALESCE(%s, gen_random_uuid()), %s, %s, 'csv_import', %s, now(), %s, %s)
               RETURNING {}"""
        ).format(LOG_COLUMNS),
        (log_id, user_id, account_id, status, file_key, Jsonb(metadata)),
    ).fetchone()


def get_log(conn: psycopg.Connection, *, log_id: UUID, user_id: UUID) -> dict | None:
    return conn.execute(
        sql.SQL("SELECT {} FROM data_sync_logs WHERE id = %s AND user_id = %s AND sync_type = 'csv_import'").format(
            LOG_COLUMNS
        ),
        (log_id, user_id),
    ).fetchone()


def list_logs(
    conn: psycopg.Connection,
    *,
    user_id: UUID,
    limit: int,
    after: tuple[datetime, UUID] | None,
    account_id: UUID | None,
    status: str | None,
) -> list[dict]:
    conditions = [sql.SQL("user_id = %(user_id)s"), sql.SQL("sync_type = 'csv_import'")]
    if after is not None:
        conditions.append(sql.SQL("(created_at, id) < (%(after_at)s, %(after_id)s)"))
    if account_id is not None:
        conditions.append(sql.SQL("COALESCE(account_id, (metadata->>'account_id')::uuid) = %(account_id)s"))
    if status is not None:
        conditions.append(sql.SQL("status = %(status)s"))
    query = sql.SQL("SELECT {} FROM data_sync_logs WHERE {} ORDER BY created_at DESC, id DESC LIMIT %(limit)s").format(
        LOG_COLUMNS, sql.SQL(" AND ").join(conditions)
    )
    params = {
        "user_id": user_id,
        "limit": limit,
        "after_at": after[0] if after else None,
        "after_id": after[1] if after else None,
        "account_id": account_id,
        "status": status,
    }
    return conn.execute(query, params).fetchall()


def open_log_for(conn: psycopg.Connection, *, log_id: UUID, user_id: UUID, account_id: UUID) -> dict | None:
    """The pending (or interrupted) import record a file's key points at, locked."""
    return conn.execute(
        """SELECT id, metadata FROM data_sync_logs
            WHERE id = %s AND user_id = %s AND account_id = %s AND sync_type = 'csv_import'
              AND status IN ('pending', 'in_progress')
            FOR UPDATE""",
        (log_id, user_id, account_id),
    ).fetchone()


def mark_in_progress(conn: psycopg.Connection, *, log_id: UUID) -> None:
    conn.execute(
        "UPDATE data_sync_logs SET status = 'in_progress', started_at = now() WHERE id = %s AND status = 'pending'",
        (log_id,),
    )


def finish_log(
    conn: psycopg.Connection,
    *,
    log_id: UUID,
    status: str,
    file_key: str,
    added: int = 0,
    duplicates: int = 0,
    error_message: str | None = None,
    errors: list[dict] | None = None,
    metadata: dict[str, Any],
) -> None:
    conn.execute(
        """UPDATE data_sync_logs
              SET status = %s, file_key = %s, transactions_added = %s, duplicates_skipped = %s,
                  error_message = %s, errors = %s, metadata = metadata || %s, completed_at = now()
            WHERE id = %s""",
        (status, file_key, added, duplicates, error_message, Jsonb(errors or []), Jsonb(metadata), log_id),
    )


# --- exactly once ---------------------------------------------------------------------


def already_processed(conn: psycopg.Connection, event_key: str) -> bool:
    row = conn.execute("SELECT 1 FROM processed_events WHERE event_key = %s", (event_key,)).fetchone()
    return row is not None


def claim_event(conn: psycopg.Connection, event_key: str) -> bool:
    """Claim the object for this transaction. A concurrent delivery of the same object
    waits on the unique key until this transaction ends, then finds it taken (commit) or
    claims it itself (rollback): the rows are written exactly once."""
    row = conn.execute(
        """INSERT INTO processed_events (event_key, handler) VALUES (%s, %s)
           ON CONFLICT (event_key) DO NOTHING RETURNING event_key""",
        (event_key, HANDLER),
    ).fetchone()
    return row is not None


def record_event_result(conn: psycopg.Connection, event_key: str, result: dict) -> None:
    conn.execute("UPDATE processed_events SET result = %s WHERE event_key = %s", (Jsonb(result), event_key))


# --- the set-based write ----------------------------------------------------------------


def stage_rows(conn: psycopg.Connection, spool: RowSpool) -> None:
    conn.execute(
        """CREATE TEMP TABLE import_rows (
               line INTEGER PRIMARY KEY, transaction_date DATE NOT NULL, posted_date DATE,
               amount NUMERIC(15,2) NOT NULL, description TEXT NOT NULL, merchant VARCHAR(255), memo TEXT,
               external_id VARCHAR(255), category_hint TEXT, keyword_slot INTEGER, merchant_key TEXT,
               duplicate BOOLEAN NOT NULL DEFAULT FALSE
           ) ON COMMIT DROP"""
    )
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in STAGING_COLUMNS)
    with conn.cursor().copy(sql.SQL("COPY import_rows ({}) FROM STDIN").format(columns)) as copy:
        for chunk in spool.chunks():
            copy.write(chunk)
    # Temporary tables are never analyzed automatically; the joins below need the counts.
    conn.execute("ANALYZE import_rows")


def mark_duplicates(conn: psycopg.Connection, *, account_id: UUID, first: date, last: date) -> int:
    """Flag staged rows already in the account; returns how many.

    External ids decide for rows that have one (also repeated within the file). The
    fingerprint (date, amount, normalized description) decides by multiplicity: the n-th
    identical row of the file is a duplicate when the account already holds n such rows
    (rows with an external id only count rows stored without one: those could be the
    same transaction imported earlier from a CSV)."""
    conn.execute(
        """UPDATE import_rows r SET duplicate = TRUE
            WHERE r.external_id IS NOT NULL
              AND EXISTS (SELECT 1 FROM transactions t WHERE t.account_id = %s AND t.external_id = r.external_id)""",
        (account_id,),
    )
    conn.execute(
        """UPDATE import_rows r SET duplicate = TRUE
             FROM (SELECT line, row_number() OVER (PARTITION BY external_id ORDER BY line) AS n
                     FROM import_rows WHERE external_id IS NOT NULL AND NOT duplicate) d
            WHERE d.line = r.line AND d.n > 1"""
    )
    conn.execute(
        """UPDATE import_rows r SET duplicate = TRUE
             FROM (SELECT line, transaction_date, amount, dkey, no_id,
                          row_number() OVER (PARTITION BY transaction_date, amount, dkey, no_id ORDER BY line) AS n
                     FROM (SELECT line, transaction_date, amount, import_description_key(description) AS dkey,
                                  external_id IS NULL AS no_id
                             FROM import_rows WHERE NOT duplicate) s) k
             JOIN (SELECT transaction_date, amount, import_description_key(description) AS dkey,
                          count(*) AS n_all, count(*) FILTER (WHERE external_id IS NULL) AS n_without_id
                     FROM transactions
                    WHERE account_id = %s AND transaction_date BETWEEN %s AND %s
                    GROUP BY 1, 2, 3) e
               ON e.transaction_date = k.transaction_date AND e.amount = k.amount AND e.dkey = k.dkey
            WHERE r.line = k.line AND k.n <= CASE WHEN k.no_id THEN e.n_all ELSE e.n_without_id END""",
        (account_id, first, last),
    )
    return conn.execute("SELECT count(*) AS n FROM import_rows WHERE duplicate").fetchone()["n"]


def insert_transactions(conn: psycopg.Connection, *, account: dict, user_id: UUID, import_id: UUID) -> list[UUID]:
    """One INSERT ... SELECT of the staged rows that are not duplicates, categorized on the
    way in (joined, not written back to the staging table: rewriting 100,000 temporary
    rows cost more than categorizing them). The statement-level balance trigger then
    updates the account once."""
    source = sql.SQL(
        "SELECT line, description, merchant, category_hint, keyword_slot, merchant_key "
        "FROM import_rows WHERE NOT duplicate"
    )
    categorized, params = categorization_query(conn, source=source, user_id=user_id, family_id=account["family_id"])
    query = sql.SQL(
        """WITH categorized AS ({})
           INSERT INTO transactions (user_id, family_id, account_id, category_id, amount, currency, description,
                                     merchant, transaction_date, posted_date, status, categorization_source,
                                     categorization_confidence, notes, external_id, import_id)
           SELECT %(importer)s, %(account_family)s, %(account_id)s, c.category_id, r.amount, %(currency)s,
                  r.description, r.merchant, r.transaction_date, r.posted_date, 'posted',
                  CASE WHEN c.category_id IS NULL THEN 'manual' ELSE 'ml' END, c.confidence, r.memo, r.external_id,
                  %(import_id)s
             FROM import_rows r LEFT JOIN categorized c ON c.line = r.line
            WHERE NOT r.duplicate
            ORDER BY r.line
           RETURNING id"""
    ).format(categorized)
    params |= {
        "importer": user_id,
        "account_family": account["family_id"],
        "account_id": account["id"],
        "currency": account["currency"],
        "import_id": import_id,
    }
    return [r["id"] for r in conn.execute(query, params).fetchall()]
