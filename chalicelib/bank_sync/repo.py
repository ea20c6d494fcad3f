"""SQL of bank connections: the connection rows, their linked accounts and sync logs."""

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from chalicelib.families.access import owned_by

CONNECTION_COLUMNS = sql.SQL(
    """c.id, c.user_id, c.family_id, c.provider, c.item_id, c.access_token_enc, c.institution_id,
       c.institution_name, c.status, c.error_code, c.sync_cursor, c.last_sync_at, c.last_webhook_at,
       c.next_sync_after, c.sync_failures, c.created_at, c.updated_at, c.removed_at"""
)
UPDATABLE = {
    "access_token_enc", "status", "error_code", "sync_cursor", "last_sync_at", "last_webhook_at",
    "next_sync_after", "sync_failures", "removed_at", "institution_id", "institution_name",
}  # fmt: skip


def insert_connection(conn: psycopg.Connection, values: dict[str, Any]) -> dict[str, Any]:
    names = list(values)
    query = sql.SQL("INSERT INTO bank_connections AS c ({}) VALUES ({}) RETURNING {}").format(
        sql.SQL(", ").join(map(sql.Identifier, names)),
        sql.SQL(", ").join(sql.Placeholder(n) for n in names),
        CONNECTION_COLUMNS,
    )
    return conn.execute(query, values).fetchone()


def get_connection(conn: psycopg.Connection, connection_id: UUID, *, lock: bool = False) -> dict[str, Any] | None:
    suffix = sql.SQL(" FOR UPDATE" if lock else "")
    query = sql.SQL("SELECT {} FROM bank_connections c WHERE c.id = %s{}").format(CONNECTION_COLUMNS, suffix)
    return conn.execute(query, (connection_id,)).fetchone()


def find_by_item(conn: psycopg.Connection, *, provider: str, item_id: str) -> dict[str, Any] | None:
    query = sql.SQL("SELECT {} FROM bank_connections c WHERE c.provider = %s AND c.item_id = %s").format(
        CONNECTION_COLUMNS
    )
    return conn.execute(query, (provider, item_id)).fetchone()


def list_visible(conn: psycopg.Connection, *, visible: sql.Composable, limit: int, after: tuple | None) -> list[dict]:
    conditions = [visible]
    params: list[Any] = []
    if after is not None:
        conditions.append(sql.SQL("(c.created_at, c.id) > (%s, %s)"))
        params.extend(after)
    query = sql.SQL("SELECT {} FROM bank_connections c WHERE {} ORDER BY c.created_at, c.id LIMIT %s").format(
        CONNECTION_COLUMNS, sql.SQL(" AND ").join(conditions)
    )
    return conn.execute(query, [*params, limit]).fetchall()


def update_connection(conn: psycopg.Connection, connection_id: UUID, changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    query = sql.SQL("UPDATE bank_connections c SET {} WHERE c.id = %(id)s RETURNING {}").format(
        sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in changes),
        CONNECTION_COLUMNS,
    )
    return conn.execute(query, {**changes, "id": connection_id}).fetchone()


def due_for_schedule(conn: psycopg.Connection, *, silent_since: datetime, limit: int = 1000) -> list[UUID]:
    """Connections the schedule should sync: usable, not waiting for a login repair or a
    rate-limit back-off, and not heard from by webhook (nor synced) since `silent_since`."""
    rows = conn.execute(
        """SELECT id FROM bank_connections
            WHERE status IN ('active', 'error') AND access_token_enc IS NOT NULL
              AND (next_sync_after IS NULL OR next_sync_after <= now())
              AND (last_webhook_at IS NULL OR last_webhook_at < %(since)s)
              AND (last_sync_at IS NULL OR last_sync_at < %(since)s)
            ORDER BY last_sync_at NULLS FIRST, id LIMIT %(limit)s""",
        {"since": silent_since, "limit": limit},
    ).fetchall()
    return [r["id"] for r in rows]


# --- linked accounts ---------------------------------------------------------------------


def accounts_of(conn: psycopg.Connection, connection_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT id, user_id, family_id, plaid_account_id, currency, type, balance, opening_balance
             FROM accounts WHERE bank_connection_id = %s ORDER BY created_at, id""",
        (connection_id,),
    ).fetchall()


def find_relinkable_account(
    conn: psycopg.Connection, *, plaid_account_id: str, user_id: UUID, family_id: UUID | None
) -> dict[str, Any] | None:
    """An account of the same owner that already carries this Plaid account id and whose
    connection is gone or was removed: linking the item again continues its history."""
    query = sql.SQL(
        """SELECT a.id FROM accounts a LEFT JOIN bank_connections c ON c.id = a.bank_connection_id
            WHERE a.plaid_account_id = %s AND {owner}
              AND (c.id IS NULL OR c.access_token_enc IS NULL)
            ORDER BY a.created_at LIMIT 1"""
    ).format(owner=owned_by(user_id, family_id, "a"))
    return conn.execute(query, (plaid_account_id,)).fetchone()


def attach_account(conn: psycopg.Connection, *, account_id: UUID, connection_id: UUID) -> None:
    conn.execute(
        "UPDATE accounts SET bank_connection_id = %s, is_active = TRUE WHERE id = %s", (connection_id, account_id)
    )


def set_last_sync(conn: psycopg.Connection, *, connection_id: UUID) -> None:
    conn.execute("UPDATE accounts SET last_sync_at = now() WHERE bank_connection_id = %s", (connection_id,))


def anchor_balance(conn: psycopg.Connection, *, account_id: UUID, balance: Any) -> Any:
    """Move the opening balance so the account's balance is the bank's; returns the
    adjustment (zero when the transactions already add up)."""
    row = conn.execute("SELECT balance FROM accounts WHERE id = %s FOR NO KEY UPDATE", (account_id,)).fetchone()
    if row is None:
        return None
    adjustment = balance - row["balance"]
    if adjustment:
        conn.execute(
            "UPDATE accounts SET opening_balance = opening_balance + %s WHERE id = %s", (adjustment, account_id)
        )
    return adjustment


# --- sync logs (data_sync_logs, sync_type 'plaid') --------------------------------------


def insert_sync_log(conn: psycopg.Connection, *, user_id: UUID, account_id: UUID, metadata: dict[str, Any]) -> UUID:
    return conn.execute(
        """INSERT INTO data_sync_logs (user_id, account_id, sync_type, status, started_at, metadata)
           VALUES (%s, %s, 'plaid', 'in_progress', now(), %s) RETURNING id""",
        (user_id, account_id, Jsonb(metadata)),
    ).fetchone()["id"]


def add_sync_counts(
    conn: psycopg.Connection, *, log_id: UUID, added: int, updated: int, deleted: int, metadata: dict[str, Any]
) -> None:
    """Counts of one committed page, in that page's transaction; the numeric metadata
    entries are added up, the others replaced."""
    conn.execute(
        """UPDATE data_sync_logs
              SET transactions_added = transactions_added + %(added)s,
                  transactions_updated = transactions_updated + %(updated)s,
                  transactions_deleted = transactions_deleted + %(deleted)s,
                  metadata = metadata || (SELECT COALESCE(jsonb_object_agg(k,
                                 CASE WHEN jsonb_typeof(v) = 'number' AND jsonb_typeof(metadata->k) = 'number'
                                      THEN to_jsonb((metadata->>k)::numeric + v::text::numeric) ELSE v END), '{}')
                                FROM jsonb_each(%(meta)s::jsonb) AS e(k, v))
            WHERE id = %(id)s""",
        {"added": added, "updated": updated, "deleted": deleted, "meta": Jsonb(metadata), "id": log_id},
    )


def add_sync_errors(conn: psycopg.Connection, *, log_id: UUID, errors: list[dict[str, Any]]) -> None:
    if errors:
        conn.execute(
            "UPDATE data_sync_logs SET errors = COALESCE(errors, '[]') || %s WHERE id = %s", (Jsonb(errors), log_id)
        )


def finish_sync_log(
    conn: psycopg.Connection, *, log_id: UUID, status: str, error_message: str | None, metadata: dict[str, Any]
) -> dict[str, Any]:
    return conn.execute(
        """UPDATE data_sync_logs SET status = %s, error_message = %s, metadata = metadata || %s, completed_at = now()
            WHERE id = %s
        RETURNING id, status, transactions_added, transactions_updated, transactions_deleted, metadata, errors""",
        (status, error_message, Jsonb(metadata), log_id),
    ).fetchone()


def claim_event(conn: psycopg.Connection, *, event_key: str, handler: str) -> bool:
    """First sight of this event (unique key); False when it was seen before."""
    row = conn.execute(
        """INSERT INTO processed_events (event_key, handler) VALUES (%s, %s)
           ON CONFLICT (event_key) DO NOTHING RETURNING event_key""",
        (event_key, handler),
    ).fetchone()
    return row is not None


ACCOUNT_COLUMNS = """a.id, a.user_id, a.family_id, a.name, a.type, a.institution, a.account_number_last4, a.balance,
       a.opening_balance, a.currency, a.allow_negative, a.is_active, a.created_at, a.updated_at,
       a.plaid_account_id, a.last_sync_at, a.bank_connection_id"""


def insert_linked_account(conn: psycopg.Connection, values: dict[str, Any]) -> UUID:
    names = list(values)
    query = sql.SQL("INSERT INTO accounts ({}) VALUES ({}) RETURNING id").format(
        sql.SQL(", ").join(map(sql.Identifier, names)), sql.SQL(", ").join(sql.Placeholder(n) for n in names)
    )
    return conn.execute(query, values).fetchone()["id"]


def linked_accounts(conn: psycopg.Connection, connection_ids: list[UUID]) -> list[dict[str, Any]]:
    return conn.execute(
        f"SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.bank_connection_id = ANY(%s) ORDER BY a.created_at, a.id",
        (connection_ids,),
    ).fetchall()


def user_locale(conn: psycopg.Connection, user_id: UUID) -> str | None:
    row = conn.execute("SELECT locale FROM users WHERE id = %s", (user_id,)).fetchone()
    return row["locale"] if row else None
