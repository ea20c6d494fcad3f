"""Catalogue queries and partition DDL for `transactions` and `transactions_archive`.

Rows are only ever moved between partitions directly (DELETE from a partition, INSERT
into a standalone table) or by DETACH/ATTACH: the statement-level balance triggers live on
the parent `transactions`, so none of these fire them, and an account's balance (opening
balance + every non-cancelled transaction, archived ones included) is left as it is."""

import re
from dataclasses import dataclass
from datetime import date

import psycopg
from psycopg import sql

from chalicelib.core.dates import shift_month

LIVE = "transactions"
ARCHIVE = "transactions_archive"
_BOUND = re.compile(r"FOR VALUES FROM \('(\d{4}-\d{2}-\d{2})'\) TO \('(\d{4}-\d{2}-\d{2})'\)")


@dataclass(frozen=True)
class Partition:
    name: str
    start: date
    end: date


def partition_name(parent: str, month: date) -> str:
    return f"{parent}_y{month:%Y}m{month:%m}"


def partitions_of(conn: psycopg.Connection, parent: str) -> list[Partition]:
    """The parent's range partitions in date order (the default partition is not one)."""
    rows = conn.execute(
        """SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = %s::regclass""",
        (parent,),
    ).fetchall()
    found = []
    for row in rows:
        # A partition a concurrent run is detaching has no bound any more (NULL): not ours to move.
        match = _BOUND.match(row["bound"] or "")
        if match:
            found.append(Partition(row["name"], date.fromisoformat(match[1]), date.fromisoformat(match[2])))
    return sorted(found, key=lambda p: p.start)


def default_partition_of(conn: psycopg.Connection, parent: str) -> str | None:
    row = conn.execute(
        """SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = %s::regclass AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'""",
        (parent,),
    ).fetchone()
    return row["name"] if row else None


def covering_partition(conn: psycopg.Connection, parent: str, month: date) -> Partition | None:
    return next((p for p in partitions_of(conn, parent) if p.start <= month < p.end), None)


def columns(conn: psycopg.Connection, table: str) -> sql.Composed:
    """The table's stored columns by name: moves never depend on column order."""
    names = [
        r["attname"]
        for r in conn.execute(
            """SELECT attname FROM pg_attribute
                WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
                ORDER BY attnum""",
            (table,),
        )
    ]
    return sql.SQL(", ").join(map(sql.Identifier, names))


def default_months(
    conn: psycopg.Connection, *, before: date | None = None, since: date | None = None
) -> list[tuple[date, int]]:
    """Months (first day) that have rows in the default partition of `transactions`, with counts."""
    default = default_partition_of(conn, LIVE)
    if default is None:
        return []
    rows = conn.execute(
        sql.SQL(
            """SELECT date_trunc('month', transaction_date)::date AS month, count(*) AS n FROM {}
                WHERE transaction_date < COALESCE(%s::date, 'infinity')
                  AND transaction_date >= COALESCE(%s::date, '-infinity')
                GROUP BY 1 ORDER BY 1"""
        ).format(sql.Identifier(default)),
        (before, since),
    ).fetchall()
    return [(r["month"], r["n"]) for r in rows]


def count_rows(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(table))).fetchone()["n"]


def move_rows(conn: psycopg.Connection, *, source: str, target: str, month: date) -> int:
    """Move one month's rows from `source` to `target` in one statement (no row loop, and
    no trigger of the parent fires: neither table is the parent `transactions`)."""
    cols = columns(conn, target)
    return conn.execute(
        sql.SQL(
            """WITH moved AS (DELETE FROM {source} WHERE transaction_date >= %s AND transaction_date < %s
                              RETURNING {cols})
               INSERT INTO {target} ({cols}) SELECT {cols} FROM moved"""
        ).format(source=sql.Identifier(source), target=sql.Identifier(target), cols=cols),
        (month, shift_month(month, 1)),
    ).rowcount


def range_check_name(table: str) -> str:
    return f"{table[:50]}_range"


def range_check_state(conn: psycopg.Connection, table: str) -> bool | None:
    """None: no range CHECK yet; False: added NOT VALID; True: validated."""
    row = conn.execute(
        "SELECT convalidated FROM pg_constraint WHERE conrelid = %s::regclass AND conname = %s",
        (table, range_check_name(table)),
    ).fetchone()
    return None if row is None else row["convalidated"]


def add_range_check(conn: psycopg.Connection, table: str, start: date, end: date, *, valid: bool) -> None:
    """A CHECK equal to the partition bound lets ATTACH skip its validation scan."""
    conn.execute(
        sql.SQL(
            "ALTER TABLE {} ADD CONSTRAINT {} CHECK (transaction_date >= {} AND transaction_date < {})"
            + ("" if valid else " NOT VALID")
        ).format(sql.Identifier(table), sql.Identifier(range_check_name(table)), sql.Literal(start), sql.Literal(end))
    )


def validate_range_check(conn: psycopg.Connection, table: str) -> None:
    # VALIDATE holds only SHARE UPDATE EXCLUSIVE: reads and writes go on while it scans.
    conn.execute(
        sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(
            sql.Identifier(table), sql.Identifier(range_check_name(table))
        )
    )


def create_standalone(conn: psycopg.Connection, name: str, *, like: str) -> None:
    conn.execute(
        sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)").format(
            sql.Identifier(name), sql.Identifier(like)
        )
    )


def attach(conn: psycopg.Connection, *, parent: str, table: str, start: date, end: date) -> None:
    conn.execute(
        sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})").format(
            sql.Identifier(parent), sql.Identifier(table), sql.Literal(start), sql.Literal(end)
        )
    )


def detach(conn: psycopg.Connection, *, parent: str, table: str) -> None:
    conn.execute(sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(sql.Identifier(parent), sql.Identifier(table)))


def rename(conn: psycopg.Connection, table: str, new_name: str) -> None:
    conn.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(table), sql.Identifier(new_name)))


def drop(conn: psycopg.Connection, table: str) -> None:
    conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))


def lock_share(conn: psycopg.Connection, table: str) -> None:
    # Readers go on; writers to this (old) month wait until the unit commits.
    conn.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(sql.Identifier(table)))


def drop_unattached_indexes(conn: psycopg.Connection, table: str) -> int:
    """Drop the partition's indexes that are not partitions of an index of its parent (a live
    month attached to the archive keeps the live indexes the archive does not have); the
    number dropped. Primary key and other constraint indexes are left alone."""
    names = [
        r["name"]
        for r in conn.execute(
            """SELECT c.relname AS name
                 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                WHERE i.indrelid = %s::regclass
                  AND NOT EXISTS (SELECT 1 FROM pg_inherits p WHERE p.inhrelid = i.indexrelid)
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
                ORDER BY 1""",
            (table,),
        )
    ]
    for name in names:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    return len(names)


def forget_monthly_totals(conn: psycopg.Connection, *, start: date, end: date) -> None:
    """The analytics roll-up (sql/1241) without the months [start, end), which left `transactions`."""
    conn.execute("SELECT transaction_monthly_totals_forget(%s, %s)", (start, end))


def forget_search_postings(conn: psycopg.Connection, table: str) -> None:
    """The search postings (sql/1301) of the rows of `table`, a month that left `transactions`."""
    conn.execute("SELECT search_postings_forget_partition(%s::regclass)", (table,))
