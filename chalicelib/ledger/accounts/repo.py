"""SQL of accounts. The balance column is never written here: the database keeps it
(opening_balance plus the non-cancelled transactions, sql/0003 and sql/0201)."""

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from chalicelib.families.access import Visibility

COLUMNS = sql.SQL(
    """a.id, a.user_id, a.family_id, a.name, a.type, a.institution, a.account_number_last4, a.balance,
       a.opening_balance, a.currency, a.allow_negative, a.is_active, a.created_at, a.updated_at"""
)
# Columns a PATCH may set (balance is not one of them).
WRITABLE = {
    "name",
    "type",
    "institution",
    "account_number_enc",
    "account_number_hash",
    "account_number_last4",
    "currency",
    "family_id",
    "user_id",
    "opening_balance",
    "allow_negative",
    "is_active",
}


def get(conn: psycopg.Connection, account_id: UUID, *, lock: str | None = None) -> dict[str, Any] | None:
    """`lock`: None, "share" (FOR KEY SHARE: the account cannot be deleted meanwhile) or "update"."""
    suffix = {None: "", "share": " FOR KEY SHARE", "update": " FOR NO KEY UPDATE"}[lock]
    query = sql.SQL("SELECT {} FROM accounts a WHERE a.id = %s" + suffix).format(COLUMNS)
    return conn.execute(query, (account_id,)).fetchone()


def lock_in_order(conn: psycopg.Connection, account_ids: list[UUID]) -> None:
    """Lock accounts a transaction write touches, in id order, before the write: the balance
    trigger locks them too, and taking them first and in one order keeps writers from
    deadlocking."""
    conn.execute("SELECT 1 FROM accounts WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE", (sorted(set(account_ids)),))


def list_visible(
    conn: psycopg.Connection,
    *,
    visible: Visibility,
    family_id: UUID | None,
    include_inactive: bool,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    conditions = [visible]
    params: list[Any] = []
    if family_id is not None:
        conditions.append(sql.SQL("a.family_id = %s"))
        params.append(family_id)
    if not include_inactive:
        conditions.append(sql.SQL("a.is_active"))
    if after is not None:
        conditions.append(sql.SQL("(a.created_at, a.id) > (%s, %s)"))
        params.extend(after)
    query = sql.SQL("SELECT {} FROM accounts a WHERE {} ORDER BY a.created_at, a.id LIMIT %s").format(
        COLUMNS, sql.SQL(" AND ").join(conditions)
    )
    return conn.execute(query, [*params, limit]).fetchall()


def insert(conn: psycopg.Connection, values: dict[str, Any]) -> dict[str, Any]:
    names = list(values)
    query = sql.SQL("INSERT INTO accounts AS a ({}) VALUES ({}) RETURNING {}").format(
        sql.SQL(", ").join(map(sql.Identifier, names)),
        sql.SQL(", ").join(sql.Placeholder(n) for n in names),
        COLUMNS,
    )
    return conn.execute(query, values).fetchone()


def update(conn: psycopg.Connection, account_id: UUID, changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - WRITABLE
    if unknown:
        raise ValueError(f"not writable: {unknown}")
    query = sql.SQL("UPDATE accounts AS a SET {} WHERE a.id = %(account_id)s RETURNING {}").format(
        sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in changes),
        COLUMNS,
    )
    return conn.execute(query, {**changes, "account_id": account_id}).fetchone()


def has_transactions(conn: psycopg.Connection, account_id: UUID) -> bool:
    row = conn.execute(
        """SELECT EXISTS (SELECT 1 FROM transactions WHERE account_id = %(id)s)
               OR EXISTS (SELECT 1 FROM transactions_archive WHERE account_id = %(id)s) AS used""",
        {"id": account_id},
    ).fetchone()
    return row["used"]


def delete(conn: psycopg.Connection, account_id: UUID) -> None:
    conn.execute("DELETE FROM accounts WHERE id = %s", (account_id,))


def move_transactions(
    conn: psycopg.Connection, account_id: UUID, *, family_id: UUID | None, user_id: UUID | None
) -> list[UUID]:
    """Transactions follow their account into (or out of) a family; out of a family they
    also become the new owner's, or nobody could see them."""
    if user_id is None:
        rows = conn.execute(
            "UPDATE transactions SET family_id = %s WHERE account_id = %s RETURNING id", (family_id, account_id)
        ).fetchall()
        conn.execute("UPDATE transactions_archive SET family_id = %s WHERE account_id = %s", (family_id, account_id))
    else:
        rows = conn.execute(
            "UPDATE transactions SET family_id = %s, user_id = %s WHERE account_id = %s RETURNING id",
            (family_id, user_id, account_id),
        ).fetchall()
        conn.execute(
            "UPDATE transactions_archive SET family_id = %s, user_id = %s WHERE account_id = %s",
            (family_id, user_id, account_id),
        )
    return [r["id"] for r in rows]
