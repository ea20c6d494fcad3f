"""SQL of one sync page, set-based: the page's transactions are staged in a temporary
table, matched against what we hold by Plaid's id (or, for a posted transaction, by the
pending one it replaces), categorized by the shared engine, then written with one
INSERT, one UPDATE and one DELETE. The statement-level balance triggers apply each
statement's effect to the accounts once."""

import json
import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from chalicelib.categorization.engine import categorization_query

STAGED = """line int, kind text, plaid_id text, pending_plaid_id text, account_id uuid, amount numeric(15,2),
            currency varchar(3), description text, merchant varchar(255), location jsonb, transaction_date date,
            posted_date date, status text, plaid_category_id uuid, plaid_confidence numeric(3,2),
            keyword_slot int, merchant_key text, category_hint text"""
STAGED_NAMES = re.findall(r"(?:^|,)\s*(\w+)\s", STAGED.replace("(15,2)", "").replace("(3,2)", ""))
# A category the user chose (or corrected) is theirs: a modified transaction keeps it.
USER_CHOSEN = "t.category_id IS NOT NULL AND t.categorization_source IN ('manual', 'user_correction')"


@dataclass
class PageWrite:
    inserted: list[UUID]
    updated: list[UUID]
    deleted: list[UUID]
    replaced_pending: int


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


def lock_accounts(conn: psycopg.Connection, account_ids: list[UUID]) -> None:
    """In id order, as every ledger writer does, so writers never deadlock on the balance trigger."""
    conn.execute("SELECT 1 FROM accounts WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE", (sorted(account_ids),))


def stage(conn: psycopg.Connection, rows: list[dict[str, Any]], *, account_ids: list[UUID]) -> None:
    conn.execute(
        f"""CREATE TEMP TABLE bank_sync_rows ({STAGED}, existing_id uuid, existing_date date,
                replaces_pending boolean NOT NULL DEFAULT FALSE, category_id uuid, categorization_source text,
                categorization_confidence numeric(3,2)) ON COMMIT DROP"""
    )
    names = sql.SQL(", ").join(map(sql.Identifier, STAGED_NAMES))
    conn.execute(
        sql.SQL("INSERT INTO bank_sync_rows ({}) SELECT {} FROM jsonb_to_recordset(%s) AS x({})").format(
            names, names, sql.SQL(STAGED)
        ),
        (Jsonb(rows, dumps=_dumps),),
    )
    # Already held (a re-delivered page, a modified transaction) ... The ids go in as arrays so
    # each monthly partition answers from its (account_id, plaid_transaction_id) index: a join
    # against the staged table would read the account's whole history on every page.
    plaid_ids = [r["plaid_id"] for r in rows]
    conn.execute(
        """UPDATE bank_sync_rows r SET existing_id = t.id, existing_date = t.transaction_date
             FROM (SELECT id, transaction_date, plaid_transaction_id FROM transactions
                    WHERE account_id = ANY(%s) AND plaid_transaction_id = ANY(%s)) t
            WHERE t.plaid_transaction_id = r.plaid_id""",
        (account_ids, plaid_ids),
    )
    # ... or the posted form of a pending transaction we hold: it takes the pending row's
    # place (same id, notes and tags), so the balance counts it once.
    pending_ids = [r["pending_plaid_id"] for r in rows if r["pending_plaid_id"] and r["status"] == "posted"]
    if pending_ids:
        conn.execute(
            """UPDATE bank_sync_rows r SET existing_id = t.id, existing_date = t.transaction_date,
                      replaces_pending = TRUE
                 FROM (SELECT id, transaction_date, plaid_transaction_id FROM transactions
                        WHERE account_id = ANY(%s) AND plaid_transaction_id = ANY(%s)) t
                WHERE r.existing_id IS NULL AND r.status = 'posted' AND t.plaid_transaction_id = r.pending_plaid_id""",
            (account_ids, pending_ids),
        )


def categorize(conn: psycopg.Connection, *, user_id: UUID, family_id: UUID | None) -> None:
    """The user's rules and what they taught win; then Plaid's category; then keywords."""
    source = sql.SQL(
        "SELECT line, description, merchant, category_hint, keyword_slot, merchant_key FROM bank_sync_rows"
    )
    categorized, params = categorization_query(conn, source=source, user_id=user_id, family_id=family_id)
    query = sql.SQL(
        """WITH categorized AS ({})
           UPDATE bank_sync_rows r SET
                  category_id = CASE WHEN c.reason IN ('rule', 'learned') THEN c.category_id
                                     ELSE COALESCE(r.plaid_category_id, c.category_id) END,
                  categorization_source = CASE WHEN c.reason IN ('rule', 'learned') THEN 'ml'
                                               WHEN r.plaid_category_id IS NOT NULL THEN 'plaid'
                                               WHEN c.category_id IS NOT NULL THEN 'ml' ELSE 'manual' END,
                  categorization_confidence = CASE WHEN c.reason IN ('rule', 'learned') THEN c.confidence
                                                   WHEN r.plaid_category_id IS NOT NULL THEN r.plaid_confidence
                                                   ELSE c.confidence END
             FROM bank_sync_rows s LEFT JOIN categorized c ON c.line = s.line
            WHERE r.line = s.line"""
    ).format(categorized)
    conn.execute(query, params)


def write(conn: psycopg.Connection, *, user_id: UUID, account_ids: list[UUID], removed: list[str]) -> PageWrite:
    inserted = conn.execute(
        """INSERT INTO transactions (user_id, family_id, account_id, category_id, amount, currency, description,
                                     merchant, location, transaction_date, posted_date, status,
                                     categorization_source, categorization_confidence, plaid_transaction_id)
           SELECT %s, a.family_id, r.account_id, r.category_id, r.amount, r.currency, r.description, r.merchant,
                  r.location, r.transaction_date, r.posted_date, r.status, r.categorization_source,
                  r.categorization_confidence, r.plaid_id
             FROM bank_sync_rows r JOIN accounts a ON a.id = r.account_id
            WHERE r.existing_id IS NULL
            ORDER BY r.line
        RETURNING id""",
        (user_id,),
    ).fetchall()
    existing = [
        r["existing_id"]
        for r in conn.execute("SELECT existing_id FROM bank_sync_rows WHERE existing_id IS NOT NULL").fetchall()
    ]
    updated = []
    if existing:
        updated = _update_existing(conn, existing)
    deleted = []
    if removed:
        deleted = conn.execute(
            "DELETE FROM transactions WHERE account_id = ANY(%s) AND plaid_transaction_id = ANY(%s) RETURNING id",
            (account_ids, removed),
        ).fetchall()
    return PageWrite(
        inserted=[r["id"] for r in inserted],
        updated=[r["id"] for r in updated],
        deleted=[r["id"] for r in deleted],
        replaced_pending=sum(1 for r in updated if r["replaces_pending"]),
    )


def _update_existing(conn: psycopg.Connection, existing: list[UUID]) -> list[dict[str, Any]]:
    """The page's transactions we already hold, changed in place (t.id = ANY: index lookups per partition)."""
    return conn.execute(
        f"""UPDATE transactions t SET
                   account_id = r.account_id, family_id = a.family_id, amount = r.amount, currency = r.currency,
                   description = r.description, merchant = r.merchant, location = r.location,
                   transaction_date = r.transaction_date, posted_date = r.posted_date,
                   plaid_transaction_id = r.plaid_id,
                   -- a transaction the user cancelled or disputed keeps that status
                   status = CASE WHEN t.status IN ('cancelled', 'disputed') THEN t.status ELSE r.status END,
                   category_id = CASE WHEN {USER_CHOSEN} THEN t.category_id ELSE r.category_id END,
                   categorization_source = CASE WHEN {USER_CHOSEN} THEN t.categorization_source
                                                ELSE r.categorization_source END,
                   categorization_confidence = CASE WHEN {USER_CHOSEN} THEN t.categorization_confidence
                                                    ELSE r.categorization_confidence END
              FROM bank_sync_rows r JOIN accounts a ON a.id = r.account_id
             WHERE t.id = r.existing_id AND t.transaction_date = r.existing_date AND t.id = ANY(%s)
         RETURNING t.id, r.replaces_pending""",
        (existing,),
    ).fetchall()
