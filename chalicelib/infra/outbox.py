"""The outbox: every change to a search-indexed row (transaction, category) writes a
row here in the same database transaction as the change. The search-sync job drains
it in id order and reads each document's current state from PostgreSQL at drain
time (a row that is gone becomes a delete); the outbox id is the document's external
version in the index, so an older change can never overwrite a newer one.

A set-based writer that adds many transactions at once (an import) records them as
ONE entry of type `transaction_set` carrying their ids (sql/1321); the drain sends
them in batches under that entry's id as their version."""

from collections.abc import Iterable
from uuid import UUID

import psycopg
from psycopg import sql

AGGREGATE_TYPES = ("transaction", "category")
TRANSACTION_SET = "transaction_set"


def record_changes(
    conn: psycopg.Connection, *, aggregate_type: str, ids: Iterable[UUID], operation: str = "upsert"
) -> None:
    if aggregate_type not in AGGREGATE_TYPES:
        raise ValueError(f"unknown aggregate type {aggregate_type}")
    if operation not in ("upsert", "delete"):
        raise ValueError(f"unknown operation {operation}")
    id_list = list(ids)
    if not id_list:
        return
    conn.execute(
        """INSERT INTO outbox (aggregate_type, aggregate_id, operation)
           SELECT %s, unnest(%s::uuid[]), %s""",
        (aggregate_type, id_list, operation),
    )


def set_upsert_of(ids: sql.Composable, *, set_id: sql.Composable) -> sql.Composed:
    """The INSERT that records an upsert of every transaction `id` of the relation `ids`
    as one `transaction_set` entry (none when the relation is empty); `set_id` names the
    write (the import record's id)."""
    return sql.SQL(
        "INSERT INTO outbox (aggregate_type, aggregate_id, operation, aggregate_ids)"
        " SELECT {}, {}, 'upsert', array_agg(id) FROM {} HAVING count(*) > 0"
    ).format(sql.Literal(TRANSACTION_SET), set_id, ids)
