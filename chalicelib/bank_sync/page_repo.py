"""SQL of one sync page, as a handful of set statements: the page's transactions go into a
staging table with one binary COPY, are matched against what we hold by Plaid's id (or,
for a posted transaction, by the pending one it replaces), categorized by the shared
engine, then written with one INSERT, one UPDATE and one DELETE, each queueing its search
outbox rows in the same statement. The statement-level balance triggers apply each
statement's effect to the accounts once."""

import re
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from chalicelib.categorization.engine import categorization_query

STAGED = """line int, kind text, plaid_id text, pending_plaid_id text, account_id uuid, amount numeric(15,2),
            currency varchar(3), description text, merchant varchar(255), location jsonb, transaction_date date,
            posted_date date, status text, plaid_category_id uuid, plaid_confidence numeric(3,2),
            keyword_slot int, merchant_key text, category_hint text"""
STAGED_NAMES = re.findall(r"(?:^|,)\s*(\w+)\s", STAGED.replace("(15,2)", "").replace("(3,2)", ""))
# The types COPY sends in binary (varchar columns take text).
STAGED_TYPES = ["int4", "text", "text", "text", "uuid", "numeric", "text", "text", "text", "jsonb", "date", "date",
                "text", "uuid", "numeric", "int4", "text", "text"]  # fmt: skip
_staged_values = itemgetter(*STAGED_NAMES)
# A temporary table that each server connection creates once and empties at every commit:
# creating and dropping one per page cost ~3 ms of catalog work. Nothing relies on it
# surviving a transaction (behind PgBouncer the next one may run on another server
# connection): every page creates it if it is missing. The name carries a version, so a
# server connection that outlives a deploy never feeds an older column list.
STAGE_TABLE = "bank_sync_page_v2"
# An added transaction that Plaid delivers again comes with the date we stored, and a
# pending one's posted form with its own authorization date: each is looked for within
# this many days of its date, so the probe touches one to three monthly partitions
# instead of every one of the account's history. A modified transaction may have moved
# further and is looked for everywhere when the window misses it.
MATCH_WINDOW_DAYS = 14
# A category the user chose (or corrected) is theirs: a modified transaction keeps it.
USER_CHOSEN = "t.category_id IS NOT NULL AND t.categorization_source IN ('manual', 'user_correction')"


@dataclass
class PageWrite:
    inserted: int
    updated: int
    deleted: int
    replaced_pending: int
    # account id -> [inserted, updated, deleted] (data_sync_logs has a row per account)
    by_account: dict[UUID, list[int]] = field(default_factory=dict)

    def _add(self, rows: list[dict[str, Any]], slot: int) -> int:
        for r in rows:
            self.by_account.setdefault(r["account_id"], [0, 0, 0])[slot] += r["n"]
        return sum(r["n"] for r in rows)


def lock_accounts(conn: psycopg.Connection, account_ids: list[UUID]) -> None:
    """In id order, as every ledger writer does, so writers never deadlock on the balance trigger."""
    conn.execute("SELECT 1 FROM accounts WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE", (sorted(account_ids),))


def stage(conn: psycopg.Connection, rows: list[dict[str, Any]], *, account_ids: list[UUID]) -> int:
    """Stage the page and find what we already hold of it; returns how many rows we hold."""
    # No JIT in the page's transaction, as for imports (imports/repo.stage_rows): the
    # categorizing join's row estimate is far above jit_above_cost, and compiling costs
    # more than these set statements over 500 rows ever take.
    conn.execute("SET LOCAL jit = off")
    # A page's new rows owe their search postings, as an import's do (imports/repo.stage_rows):
    # written inline they cost a page more than the rest of its write (BENCHMARKS.md, search
    # postings); the search-sync job builds them, and search reads owed rows meanwhile.
    conn.execute("SET LOCAL fiscaflow.search_deferred = 'on'")
    # (IF NOT EXISTS would send a notice on every page but the first.)
    conn.execute(
        f"""DO $$ BEGIN
              IF to_regclass('pg_temp.{STAGE_TABLE}') IS NULL THEN
                CREATE TEMP TABLE {STAGE_TABLE} ({STAGED}, existing_id uuid, existing_date date,
                    replaces_pending boolean NOT NULL DEFAULT FALSE, category_id uuid, categorization_source text,
                    categorization_confidence numeric(3,2)) ON COMMIT DELETE ROWS;
              END IF;
            END $$"""
    )
    names = sql.SQL(", ").join(map(sql.Identifier, STAGED_NAMES))
    with conn.cursor().copy(
        sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(sql.Identifier(STAGE_TABLE), names)
    ) as copy:
        copy.set_types(STAGED_TYPES)
        for row in rows:
            copy.write_row(_staged_values(row))
    if not rows:
        return 0
    window = sql.Literal(MATCH_WINDOW_DAYS)
    stage_table = sql.Identifier(STAGE_TABLE)
    # Already held (a re-delivered page, a modified transaction): one index probe per row in
    # the partitions of its date window (LATERAL ... LIMIT 1: a nested loop whose inner scan
    # is pruned per row at run time).
    held = conn.execute(
        sql.SQL(
            """UPDATE {stage} r SET existing_id = t.id, existing_date = t.transaction_date
                 FROM {stage} s CROSS JOIN LATERAL (
                      SELECT id, transaction_date FROM transactions t
                       WHERE t.account_id = s.account_id AND t.plaid_transaction_id = s.plaid_id
                         AND t.transaction_date BETWEEN s.transaction_date - {window} AND s.transaction_date + {window}
                       LIMIT 1) t
                WHERE r.line = s.line"""
        ).format(stage=stage_table, window=window)
    ).rowcount
    # A modified transaction the window missed (its date moved): looked for in every partition,
    # by id arrays, so each partition answers from its (account_id, plaid_transaction_id) index.
    moved = [r["plaid_id"] for r in rows if r["kind"] == "modified"]
    if moved and held < len(moved):
        held += conn.execute(
            sql.SQL(
                """UPDATE {stage} r SET existing_id = t.id, existing_date = t.transaction_date
                     FROM (SELECT id, transaction_date, plaid_transaction_id FROM transactions
                            WHERE account_id = ANY(%s) AND plaid_transaction_id = ANY(%s)) t
                    WHERE r.existing_id IS NULL AND r.kind = 'modified' AND t.plaid_transaction_id = r.plaid_id"""
            ).format(stage=stage_table),
            (account_ids, moved),
        ).rowcount
    # The posted form of a pending transaction we hold takes the pending row's place (same id,
    # notes and tags), so the balance counts it once. Plaid also lists the pending id as
    # removed, so one the window misses is still never counted twice.
    if any(r["pending_plaid_id"] and r["status"] == "posted" for r in rows):
        held += conn.execute(
            sql.SQL(
                """UPDATE {stage} r SET existing_id = t.id, existing_date = t.transaction_date, replaces_pending = TRUE
                     FROM {stage} s CROSS JOIN LATERAL (
                          SELECT id, transaction_date FROM transactions t
                           WHERE t.account_id = s.account_id AND t.plaid_transaction_id = s.pending_plaid_id
                             AND t.transaction_date BETWEEN s.transaction_date - {window}
                                                        AND s.transaction_date + {window}
                           LIMIT 1) t
                    WHERE r.line = s.line AND s.existing_id IS NULL AND s.status = 'posted'
                      AND s.pending_plaid_id IS NOT NULL"""
            ).format(stage=stage_table, window=window)
        ).rowcount
    return held


def categorize(conn: psycopg.Connection, *, user_id: UUID, family_id: UUID | None) -> None:
    """The user's rules and what they taught win; then Plaid's category; then keywords."""
    source = sql.SQL("SELECT line, description, merchant, category_hint, keyword_slot, merchant_key FROM {}").format(
        sql.Identifier(STAGE_TABLE)
    )
    categorized, params = categorization_query(conn, source=source, user_id=user_id, family_id=family_id)
    query = sql.SQL(
        """WITH categorized AS ({})
           UPDATE {stage} r SET
                  category_id = CASE WHEN c.reason IN ('rule', 'learned') THEN c.category_id
                                     ELSE COALESCE(r.plaid_category_id, c.category_id) END,
                  categorization_source = CASE WHEN c.reason IN ('rule', 'learned') THEN 'ml'
                                               WHEN r.plaid_category_id IS NOT NULL THEN 'plaid'
                                               WHEN c.category_id IS NOT NULL THEN 'ml' ELSE 'manual' END,
                  categorization_confidence = CASE WHEN c.reason IN ('rule', 'learned') THEN c.confidence
                                                   WHEN r.plaid_category_id IS NOT NULL THEN r.plaid_confidence
                                                   ELSE c.confidence END
             FROM {stage} s LEFT JOIN categorized c ON c.line = s.line
            WHERE r.line = s.line"""
    ).format(categorized, stage=sql.Identifier(STAGE_TABLE))
    conn.execute(query, params)


# The search outbox rows of a statement's changes, queued by the statement itself (the
# outbox contract of chalicelib.search.outbox: one row per changed transaction).
_QUEUE = """INSERT INTO outbox (aggregate_type, aggregate_id, operation) SELECT 'transaction', id, {op} FROM {cte}"""


def write(
    conn: psycopg.Connection, *, user_id: UUID, account_ids: list[UUID], removed: list[str], held: int | None = None
) -> PageWrite:
    """Insert what is new, update what we hold, delete what the bank removed. `held` (from
    stage) spares the UPDATE when the page brought nothing we hold."""
    stage_table = sql.Identifier(STAGE_TABLE)
    # Rows in date order: each monthly partition takes its rows in one run.
    inserted = conn.execute(
        sql.SQL(
            """WITH inserted AS (
                 INSERT INTO transactions (user_id, family_id, account_id, category_id, amount, currency, description,
                                           merchant, location, transaction_date, posted_date, status,
                                           categorization_source, categorization_confidence, plaid_transaction_id)
                 SELECT %s, a.family_id, r.account_id, r.category_id, r.amount, r.currency, r.description, r.merchant,
                        r.location, r.transaction_date, r.posted_date, r.status, r.categorization_source,
                        r.categorization_confidence, r.plaid_id
                   FROM {stage} r JOIN accounts a ON a.id = r.account_id
                  WHERE r.existing_id IS NULL
                  ORDER BY r.transaction_date, r.line
              RETURNING id, account_id
             ), queued AS ({queue})
             SELECT account_id, count(*) AS n FROM inserted GROUP BY account_id"""
        ).format(stage=stage_table, queue=sql.SQL(_QUEUE).format(op=sql.Literal("upsert"), cte=sql.SQL("inserted"))),
        (user_id,),
    ).fetchall()
    written = PageWrite(0, 0, 0, 0)
    written.inserted = written._add(inserted, 0)
    if held is None or held:
        rows = _update_existing(conn)
        written.updated = written._add(rows, 1)
        written.replaced_pending = sum(r["replaced"] for r in rows)
    if removed:
        deleted = conn.execute(
            sql.SQL(
                """WITH deleted AS (
                     DELETE FROM transactions WHERE account_id = ANY(%s) AND plaid_transaction_id = ANY(%s)
                  RETURNING id, account_id
                   ), queued AS ({queue})
                   SELECT account_id, count(*) AS n FROM deleted GROUP BY account_id"""
            ).format(queue=sql.SQL(_QUEUE).format(op=sql.Literal("delete"), cte=sql.SQL("deleted"))),
            (account_ids, removed),
        ).fetchall()
        written.deleted = written._add(deleted, 2)
    return written


def _update_existing(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """The page's transactions we already hold, changed in place. The ids and dates go in as
    arrays (sub-selects run once), so each partition in range answers from its primary key."""
    return conn.execute(
        sql.SQL(
            f"""WITH updated AS (
                  UPDATE transactions t SET
                         account_id = r.account_id, family_id = a.family_id, amount = r.amount,
                         currency = r.currency, description = r.description, merchant = r.merchant,
                         location = r.location, transaction_date = r.transaction_date,
                         posted_date = r.posted_date, plaid_transaction_id = r.plaid_id,
                         -- a transaction the user cancelled or disputed keeps that status
                         status = CASE WHEN t.status IN ('cancelled', 'disputed') THEN t.status ELSE r.status END,
                         category_id = CASE WHEN {USER_CHOSEN} THEN t.category_id ELSE r.category_id END,
                         categorization_source = CASE WHEN {USER_CHOSEN} THEN t.categorization_source
                                                      ELSE r.categorization_source END,
                         categorization_confidence = CASE WHEN {USER_CHOSEN} THEN t.categorization_confidence
                                                          ELSE r.categorization_confidence END
                    FROM {{stage}} r JOIN accounts a ON a.id = r.account_id
                   WHERE t.id = r.existing_id AND t.transaction_date = r.existing_date
                     AND t.id = ANY(ARRAY(SELECT existing_id FROM {{stage}} WHERE existing_id IS NOT NULL))
                     AND t.transaction_date = ANY(ARRAY(SELECT existing_date FROM {{stage}}
                                                         WHERE existing_id IS NOT NULL))
               RETURNING t.id, t.account_id, r.replaces_pending
                ), queued AS ({{queue}})
                SELECT account_id, count(*) AS n, count(*) FILTER (WHERE replaces_pending) AS replaced
                  FROM updated GROUP BY account_id"""
        ).format(
            stage=sql.Identifier(STAGE_TABLE),
            queue=sql.SQL(_QUEUE).format(op=sql.Literal("upsert"), cte=sql.SQL("updated")),
        )
    ).fetchall()
