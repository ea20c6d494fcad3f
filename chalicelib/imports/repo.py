"""SQL of the imports domain: import records (data_sync_logs), saved column mappings,
the exactly-once claim, and the set-based write of a statement into transactions
(duplicates skipped, pending rows replaced by their posted twins)."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from chalicelib.categorization.engine import categorization_query
from chalicelib.imports.staging import STAGING_COLUMNS, RowSpool
from chalicelib.infra.outbox import set_upsert_of

LOG_COLUMNS = sql.SQL(
    """id, user_id, COALESCE(account_id, (metadata->>'account_id')::uuid) AS account_id, status, sync_type,
       file_key, transactions_added, transactions_updated, transactions_deleted, duplicates_skipped,
       started_at, completed_at, error_message, error_code, errors, metadata, created_at"""
)
HANDLER = "imports"


# --- accounts, users, mappings -------------------------------------------------------


def find_account(conn: psycopg.Connection, account_id: UUID) -> dict | None:
    return conn.execute(
        """SELECT id, user_id, family_id, type, currency, is_active,
                  CASE WHEN account_number_last4 IS NOT NULL THEN '****' || account_number_last4 END
                      AS account_number_masked
             FROM accounts WHERE id = %s""",
        (account_id,),
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
        sql.SQL(
            "SELECT {} FROM data_sync_logs WHERE id = %s AND user_id = %s AND sync_type IN ('csv_import', 'plaid')"
        ).format(LOG_COLUMNS),
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
    sync_type: str = "csv_import",
) -> list[dict]:
    conditions = [sql.SQL("user_id = %(user_id)s"), sql.SQL("sync_type = %(sync_type)s")]
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
        "sync_type": sync_type,
    }
    return conn.execute(query, params).fetchall()


def open_log_for(conn: psycopg.Connection, *, log_id: UUID, user_id: UUID, account_id: UUID) -> dict | None:
    """The pending (or interrupted) import record a file's key points at, locked. One the
    upkeep failed as stale is still open to its own file's late delivery: an outage
    outlived, the import finishes on the record the person is watching."""
    return conn.execute(
        """SELECT id, metadata FROM data_sync_logs
            WHERE id = %s AND user_id = %s AND account_id = %s AND sync_type = 'csv_import'
              AND (status IN ('pending', 'in_progress') OR (status = 'failed' AND error_code = 'stale'))
            FOR UPDATE""",
        (log_id, user_id, account_id),
    ).fetchone()


def lock_log(conn: psycopg.Connection, *, log_id: UUID, user_id: UUID) -> dict | None:
    """One of the user's import records, locked for a state change (a confirm)."""
    return conn.execute(
        sql.SQL(
            "SELECT {} FROM data_sync_logs WHERE id = %s AND user_id = %s AND sync_type = 'csv_import' FOR UPDATE"
        ).format(LOG_COLUMNS),
        (log_id, user_id),
    ).fetchone()


def lock_confirm_attempt(conn: psycopg.Connection, *, log_id: UUID, attempt: int) -> dict | None:
    """The record a confirm attempt finishes, locked; None when that attempt is no longer
    the running one (the upkeep failed it, or it already finished)."""
    return conn.execute(
        """SELECT id, metadata FROM data_sync_logs
            WHERE id = %s AND status = 'in_progress' AND (metadata->>'confirm_attempt')::int = %s
            FOR UPDATE""",
        (log_id, attempt),
    ).fetchone()


def start_confirm(conn: psycopg.Connection, *, log_id: UUID, attempt: int) -> None:
    conn.execute(
        """UPDATE data_sync_logs
              SET status = 'in_progress', started_at = now(), completed_at = NULL, error_message = NULL,
                  error_code = NULL, errors = '[]', metadata = metadata || jsonb_build_object('confirm_attempt', %s)
            WHERE id = %s""",
        (attempt, log_id),
    )


def find_stale_imports(conn: psycopg.Connection, *, older_than_minutes: int) -> list[dict]:
    return conn.execute(
        """SELECT id, user_id, account_id, file_key, started_at FROM data_sync_logs
            WHERE status = 'in_progress' AND started_at < now() - make_interval(mins => %s)
            ORDER BY started_at""",
        (older_than_minutes,),
    ).fetchall()


def fail_stale_imports(conn: psycopg.Connection, *, older_than_minutes: int, message: str) -> list[dict]:
    """Fail every import in_progress for longer than the limit; the ones failed. A record
    an import is finishing right now is locked by it and left alone (SKIP LOCKED)."""
    return conn.execute(
        """WITH stale AS (
               SELECT id FROM data_sync_logs
                WHERE status = 'in_progress' AND started_at < now() - make_interval(mins => %s)
                ORDER BY started_at
                  FOR UPDATE SKIP LOCKED)
           UPDATE data_sync_logs l
              SET status = 'failed', error_code = 'stale', error_message = %s, completed_at = now()
             FROM stale
            WHERE l.id = stale.id
        RETURNING l.id, l.user_id, l.account_id, l.file_key, l.started_at""",
        (older_than_minutes, message),
    ).fetchall()


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
    updated: int = 0,
    duplicates: int = 0,
    error_message: str | None = None,
    error_code: str | None = None,
    errors: list[dict] | None = None,
    metadata: dict[str, Any],
) -> None:
    conn.execute(
        """UPDATE data_sync_logs
              SET status = %s, file_key = %s, transactions_added = %s, transactions_updated = %s,
                  duplicates_skipped = %s, error_message = %s, error_code = %s, errors = %s,
                  metadata = metadata || %s, completed_at = now()
            WHERE id = %s""",
        (status, file_key, added, updated, duplicates, error_message, error_code, Jsonb(errors or []),
         Jsonb(metadata), log_id),
    )  # fmt: skip


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


def claim_events(conn: psycopg.Connection, event_keys: list[str]) -> None:
    """Claim keys this transaction settles too (a confirm settles its object's S3 event),
    whether or not an earlier attempt claimed them already."""
    conn.execute(
        """INSERT INTO processed_events (event_key, handler) SELECT unnest(%s::text[]), %s
           ON CONFLICT (event_key) DO NOTHING""",
        (event_keys, HANDLER),
    )


def record_event_result(conn: psycopg.Connection, event_key: str, result: dict) -> None:
    conn.execute("UPDATE processed_events SET result = %s WHERE event_key = %s", (Jsonb(result), event_key))


# --- the set-based write ----------------------------------------------------------------

# Two bank lines are "alike" when their normalized descriptions are equal or share at
# least half their trigrams (pg_trgm): "AMZN MKTP US*1A2B3" pending becomes
# "AMAZON MKTP US*1A2B3 AMZN.COM/BILL" posted.
_ALIKE = """(import_description_key({a}) = import_description_key({b})
             OR similarity(import_description_key({a}), import_description_key({b})) >= 0.5)"""
TWIN_DAYS = 5


def _alike(a: str, b: str) -> sql.SQL:
    return sql.SQL(_ALIKE.format(a=a, b=b))


def stage_rows(conn: psycopg.Connection, spool: RowSpool) -> None:
    # No JIT for the rest of this transaction: the categorizing INSERT's row estimate
    # multiplies its left joins into billions, so PostgreSQL JIT-compiled ~300 functions
    # with full optimization for every import (3-19 s of a 100,000-row import, more than
    # the insert itself); none of these set statements gains from it.
    conn.execute("SET LOCAL jit = off")
    # The text indexing of the rows written here is owed, not done per row: the search
    # triggers skip a transaction that says so, and a job indexes the rows afterwards
    # (issue 17). Until those triggers know the setting it is an unused custom setting.
    conn.execute("SET LOCAL fiscaflow.search_deferred = 'on'")
    # The fingerprint and categorization sorts of 100,000 rows spilled to disk at 4 MB.
    conn.execute("SET LOCAL work_mem = '64MB'")
    conn.execute(
        """CREATE TEMP TABLE import_rows (
               seq INTEGER PRIMARY KEY, line INTEGER NOT NULL, transaction_date DATE NOT NULL, posted_date DATE,
               amount NUMERIC(15,2) NOT NULL, description TEXT NOT NULL, merchant VARCHAR(255), memo TEXT,
               external_id VARCHAR(255), category_hint TEXT, keyword_slot INTEGER, merchant_key TEXT,
               status VARCHAR(20) NOT NULL, duplicate BOOLEAN NOT NULL DEFAULT FALSE,
               replaces UUID, replaces_date DATE
           ) ON COMMIT DROP"""
    )
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in STAGING_COLUMNS)
    with conn.cursor().copy(sql.SQL("COPY import_rows ({}) FROM STDIN").format(columns)) as copy:
        for chunk in spool.chunks():
            copy.write(chunk)
    # Temporary tables are never analyzed automatically; the joins below need the counts.
    conn.execute("ANALYZE import_rows")


def mark_duplicates(conn: psycopg.Connection, *, account_id: UUID, first: date, last: date) -> int:
    """Flag staged rows already in the account and find the pending rows that posted rows
    replace; returns how many rows are duplicates.

    External ids decide for rows that have one (also repeated within the file). The
    fingerprint (date, amount, normalized description) decides by multiplicity: the n-th
    identical row of the file is a duplicate when the account already holds n such rows
    (rows with an external id only count rows stored without one: those could be the
    same transaction imported earlier from a CSV). A posted row never counts a pending
    transaction as its duplicate: that is its twin, which it replaces
    (match_pending_twins). Last, a pending row whose posted twin is in the account or in
    the file is a duplicate."""
    params = {"account_id": account_id, "first": first, "last": last, "days": TWIN_DAYS}
    conn.execute(
        """UPDATE import_rows r SET duplicate = TRUE
            WHERE r.external_id IS NOT NULL
              AND EXISTS (SELECT 1 FROM transactions t
                           WHERE t.account_id = %(account_id)s AND t.external_id = r.external_id
                             AND NOT (t.status = 'pending' AND r.status = 'posted'))""",
        params,
    )
    conn.execute(
        """UPDATE import_rows r SET duplicate = TRUE
             FROM (SELECT seq, row_number() OVER (PARTITION BY external_id ORDER BY seq) AS n
                     FROM import_rows WHERE external_id IS NOT NULL AND NOT duplicate) d
            WHERE d.seq = r.seq AND d.n > 1"""
    )
    # Rows are found again by ctid: a re-imported file marks every staged row, and a
    # primary-key probe per row cost more than the fingerprint join itself.
    conn.execute(
        """UPDATE import_rows r SET duplicate = TRUE
             FROM (SELECT row_ctid, settled, no_id,
                          row_number() OVER (PARTITION BY transaction_date, amount, dkey, no_id, settled
                                                 ORDER BY seq) AS n,
                          transaction_date, amount, dkey
                     FROM (SELECT ctid AS row_ctid, seq, transaction_date, amount,
                                  import_description_key(description) AS dkey,
                                  external_id IS NULL AS no_id, status = 'posted' AS settled
                             FROM import_rows WHERE NOT duplicate) s) k
             JOIN (SELECT transaction_date, amount, import_description_key(description) AS dkey,
                          count(*) AS n_all, count(*) FILTER (WHERE external_id IS NULL) AS n_without_id,
                          count(*) FILTER (WHERE status <> 'pending') AS n_settled,
                          count(*) FILTER (WHERE status <> 'pending' AND external_id IS NULL) AS n_settled_without_id
                     FROM transactions
                    WHERE account_id = %(account_id)s AND transaction_date BETWEEN %(first)s AND %(last)s
                    GROUP BY 1, 2, 3) e
               ON e.transaction_date = k.transaction_date AND e.amount = k.amount AND e.dkey = k.dkey
            WHERE r.ctid = k.row_ctid
              AND k.n <= CASE WHEN k.settled AND k.no_id THEN e.n_settled
                              WHEN k.settled THEN e.n_settled_without_id
                              WHEN k.no_id THEN e.n_all
                              ELSE e.n_without_id END""",
        params,
    )
    match_pending_twins(conn, account_id=account_id, first=first, last=last)
    # Two statements of one plain EXISTS each: an OR of two correlated subqueries is
    # costed per staged row, and that estimate alone had PostgreSQL JIT-compile the plan
    # over every partition (10 s for 20,000 rows, none of them pending).
    conn.execute(
        sql.SQL(
            """UPDATE import_rows r SET duplicate = TRUE
                WHERE r.status = 'pending' AND NOT r.duplicate
                  AND EXISTS (SELECT 1 FROM import_rows p
                               WHERE p.status = 'posted' AND p.amount = r.amount
                                 AND p.transaction_date BETWEEN r.transaction_date - %(days)s
                                                            AND r.transaction_date + %(days)s
                                 AND {})"""
        ).format(_alike("p.description", "r.description")),
        params,
    )
    conn.execute(
        sql.SQL(
            """UPDATE import_rows r SET duplicate = TRUE
                WHERE r.status = 'pending' AND NOT r.duplicate
                  AND EXISTS (SELECT 1 FROM transactions t
                               WHERE t.account_id = %(account_id)s AND t.status = 'posted' AND t.amount = r.amount
                                 AND t.transaction_date BETWEEN r.transaction_date - %(days)s
                                                            AND r.transaction_date + %(days)s
                                 AND t.transaction_date BETWEEN %(first)s::date - %(days)s
                                                            AND %(last)s::date + %(days)s
                                 AND {})"""
        ).format(_alike("t.description", "r.description")),
        params,
    )
    return conn.execute("SELECT count(*) AS n FROM import_rows WHERE duplicate").fetchone()["n"]


def match_pending_twins(conn: psycopg.Connection, *, account_id: UUID, first: date, last: date) -> None:
    """Pair posted staged rows with the account's pending transactions they replace: same
    amount, alike description (or the same external id), dated within TWIN_DAYS. Pairs
    are one to one: a pair is kept when each is the other's best match (equal key first,
    then the nearest date)."""
    conn.execute(
        sql.SQL(
            """WITH pairs AS (
                   SELECT r.seq, t.id, t.transaction_date AS t_date,
                          abs(t.transaction_date - r.transaction_date) AS gap,
                          import_description_key(t.description) = import_description_key(r.description)
                              OR t.external_id = r.external_id AS same
                     FROM import_rows r
                     JOIN transactions t
                       ON t.account_id = %(account_id)s AND t.status = 'pending' AND t.amount = r.amount
                      AND t.transaction_date BETWEEN r.transaction_date - %(days)s AND r.transaction_date + %(days)s
                    WHERE r.status = 'posted' AND NOT r.duplicate
                      AND t.transaction_date BETWEEN %(first)s::date - %(days)s AND %(last)s::date + %(days)s
                      AND ({} OR t.external_id = r.external_id)),
               ranked AS (
                   SELECT seq, id, t_date,
                          row_number() OVER (PARTITION BY seq ORDER BY same DESC, gap, id) AS by_row,
                          row_number() OVER (PARTITION BY id ORDER BY same DESC, gap, seq) AS by_twin
                     FROM pairs)
               UPDATE import_rows r SET replaces = k.id, replaces_date = k.t_date
                 FROM ranked k
                WHERE k.seq = r.seq AND k.by_row = 1 AND k.by_twin = 1"""
        ).format(_alike("t.description", "r.description")),
        {"account_id": account_id, "first": first, "last": last, "days": TWIN_DAYS},
    )


def replace_pending_twins(conn: psycopg.Connection, *, account_id: UUID, import_id: UUID) -> list[UUID]:
    """Turn each matched pending transaction into its posted row, in place (one UPDATE;
    the statement-level balance trigger nets old against new, so the account counts the
    transaction once). A category or note the person set on the pending row stays."""
    rows = conn.execute(
        """UPDATE transactions t
              SET amount = r.amount, description = r.description, merchant = r.merchant,
                  transaction_date = r.transaction_date, posted_date = r.posted_date, status = 'posted',
                  notes = COALESCE(t.notes, r.memo), external_id = COALESCE(r.external_id, t.external_id),
                  import_id = %(import_id)s
             FROM import_rows r
            WHERE r.replaces IS NOT NULL AND NOT r.duplicate
              AND t.id = r.replaces AND t.transaction_date = r.replaces_date AND t.account_id = %(account_id)s
        RETURNING t.id""",
        {"account_id": account_id, "import_id": import_id},
    ).fetchall()
    return [r["id"] for r in rows]


def insert_transactions(conn: psycopg.Connection, *, account: dict, user_id: UUID, import_id: UUID) -> int:
    """One INSERT ... SELECT of the staged rows that are neither duplicates nor twins of a
    pending row, categorized on the way in (joined, not written back to the staging
    table: rewriting 100,000 temporary rows cost more than categorizing them), with the
    search outbox entry (one for the whole set) written by the same statement; how many rows were added. The
    statement-level balance trigger then updates the account once.

    Rows go in by date: one monthly partition after the other, and within each the date
    indexes grow at one end, instead of every row landing in another partition's pages
    (a third less backend CPU for 100,000 rows in file order, BENCHMARKS.md)."""
    source = sql.SQL(
        "SELECT seq AS line, description, merchant, category_hint, keyword_slot, merchant_key "
        "FROM import_rows WHERE NOT duplicate AND replaces IS NULL"
    )
    categorized, params = categorization_query(conn, source=source, user_id=user_id, family_id=account["family_id"])
    query = sql.SQL(
        """WITH categorized AS ({}),
           inserted AS (
           INSERT INTO transactions (user_id, family_id, account_id, category_id, amount, currency, description,
                                     merchant, transaction_date, posted_date, status, categorization_source,
                                     categorization_confidence, notes, external_id, import_id)
           SELECT %(importer)s, %(account_family)s, %(account_id)s, c.category_id, r.amount, %(currency)s,
                  r.description, r.merchant, r.transaction_date, r.posted_date, r.status,
                  CASE WHEN c.category_id IS NULL THEN 'manual' ELSE 'ml' END, c.confidence, r.memo, r.external_id,
                  %(import_id)s
             FROM import_rows r LEFT JOIN categorized c ON c.line = r.seq
            WHERE NOT r.duplicate AND r.replaces IS NULL
            ORDER BY r.transaction_date, r.seq
           RETURNING id),
           queued AS ({})
           SELECT count(*) AS n FROM inserted"""
    ).format(categorized, set_upsert_of(sql.Identifier("inserted"), set_id=sql.SQL("%(import_id)s::uuid")))
    params |= {
        "importer": user_id,
        "account_family": account["family_id"],
        "account_id": account["id"],
        "currency": account["currency"],
        "import_id": import_id,
    }
    return conn.execute(query, params).fetchone()["n"]
