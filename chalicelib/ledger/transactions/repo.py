"""SQL of single transactions. Rows are addressed by id through the primary key (id,
transaction_date), whose leading column is id (the date is in the key because of the
monthly partitions); updates name
the old transaction_date too, and a changed date moves the row to its new partition."""

from datetime import date
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

FIELDS = [
    "id",
    "user_id",
    "family_id",
    "account_id",
    "category_id",
    "amount",
    "currency",
    "description",
    "merchant",
    "location",
    "transaction_date",
    "posted_date",
    "status",
    "categorization_source",
    "categorization_confidence",
    "tags",
    "notes",
    "receipt_url",
    "external_id",
    "created_at",
    "updated_at",
]
WRITABLE = set(FIELDS) - {"id", "created_at", "updated_at"}


def columns(alias: str) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(alias, f) for f in FIELDS)


def _adapt(values: dict[str, Any]) -> dict[str, Any]:
    return {k: Jsonb(v) if k == "location" and v is not None else v for k, v in values.items()}


def get(conn: psycopg.Connection, transaction_id: UUID, *, for_update: bool = False) -> dict[str, Any] | None:
    suffix = sql.SQL(" FOR UPDATE" if for_update else "")
    return conn.execute(
        sql.SQL("SELECT {} FROM transactions t WHERE t.id = %s{}").format(columns("t"), suffix), (transaction_id,)
    ).fetchone()


def get_archived(conn: psycopg.Connection, transaction_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        sql.SQL("SELECT {} FROM transactions_archive t WHERE t.id = %s").format(columns("t")), (transaction_id,)
    ).fetchone()


def insert(conn: psycopg.Connection, values: dict[str, Any]) -> dict[str, Any]:
    names = list(values)
    query = sql.SQL("INSERT INTO transactions AS t ({}) VALUES ({}) RETURNING {}").format(
        sql.SQL(", ").join(map(sql.Identifier, names)),
        sql.SQL(", ").join(sql.Placeholder(n) for n in names),
        columns("t"),
    )
    return conn.execute(query, _adapt(values)).fetchone()


def update(conn: psycopg.Connection, transaction_id: UUID, day: date, changes: dict[str, Any]) -> dict[str, Any]:
    if set(changes) - WRITABLE:
        raise ValueError(f"not writable: {set(changes) - WRITABLE}")
    query = sql.SQL(
        "UPDATE transactions AS t SET {} WHERE t.id = %(_id)s AND t.transaction_date = %(_day)s RETURNING {}"
    ).format(
        sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in changes),
        columns("t"),
    )
    return conn.execute(query, {**_adapt(changes), "_id": transaction_id, "_day": day}).fetchone()


def delete(conn: psycopg.Connection, transaction_id: UUID, day: date) -> None:
    conn.execute("DELETE FROM transactions WHERE id = %s AND transaction_date = %s", (transaction_id, day))
