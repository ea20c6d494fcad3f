"""GET /transactions as SQL: filters, newest first, keyset pagination, archive.

The caller's visibility is split into parts (own personal rows; each family's rows,
Access.visible_parts): each part is one ordered scan of a (user_id | family_id,
transaction_date DESC, created_at DESC, id DESC) index limited to the page size, and
the parts are merged. A single OR would make PostgreSQL collect and sort every visible
row before it could return the first 50 (see BENCHMARKS.md, "Ledger")."""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from chalicelib.ledger.transactions.repo import columns

ORDER = sql.SQL("transaction_date DESC, created_at DESC, id DESC")


@dataclass(frozen=True)
class Filters:
    account_id: UUID | None = None
    category_id: UUID | None = None
    date_from: date | None = None
    date_to: date | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    status: str | None = None
    tag: str | None = None
    merchant: str | None = None
    q: str | None = None
    after: tuple[date, datetime, UUID] | None = None


def like_pattern(text: str) -> str:
    """Substring pattern for ILIKE with the user's %, _ and \\ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(f: Filters) -> tuple[list[sql.Composable], list[Any]]:
    conds: list[sql.Composable] = []
    params: list[Any] = []

    def add(text: str, *values: Any) -> None:
        conds.append(sql.SQL(text))
        params.extend(values)

    if f.account_id is not None:
        add("t.account_id = %s", f.account_id)
    if f.category_id is not None:
        add("t.category_id = %s", f.category_id)
    if f.date_from is not None:
        add("t.transaction_date >= %s", f.date_from)
    if f.date_to is not None:
        add("t.transaction_date <= %s", f.date_to)
    if f.min_amount is not None:
        add("t.amount >= %s", f.min_amount)
    if f.max_amount is not None:
        add("t.amount <= %s", f.max_amount)
    if f.status is not None:
        add("t.status = %s", f.status)
    if f.tag is not None:
        add("t.tags @> ARRAY[%s]::text[]", f.tag)
    if f.merchant is not None:
        add("lower(t.merchant) = lower(%s)", f.merchant)
    if f.q is not None:
        pattern = like_pattern(f.q)
        # The concatenation is what idx_transactions_text_trgm indexes; the per-column test keeps
        # a match from spanning the two columns.
        add(
            "(t.description || ' ' || COALESCE(t.merchant, '')) ILIKE %s"
            " AND (t.description ILIKE %s OR t.merchant ILIKE %s)",
            pattern,
            pattern,
            pattern,
        )
    if f.after is not None:
        # The plain date bound lets PostgreSQL skip later partitions; the row comparison is the cursor.
        add(
            "t.transaction_date <= %s AND (t.transaction_date, t.created_at, t.id) < (%s, %s, %s)", f.after[0], *f.after
        )
    return conds, params


def list_query(
    parts: list[sql.Composable], f: Filters, *, limit: int, include_archived: bool
) -> tuple[sql.Composed, list[Any]]:
    """The page query: one limited, ordered branch per visibility part (and table), merged."""
    conds, params = _conditions(f)
    tables = ["transactions", "transactions_archive"] if include_archived else ["transactions"]
    branches: list[sql.Composable] = []
    all_params: list[Any] = []
    for table in tables:
        for part in parts:
            where = sql.SQL(" AND ").join([part, *conds])
            branches.append(
                sql.SQL("(SELECT {cols} FROM {table} t WHERE {where} ORDER BY {order} LIMIT %s)").format(
                    cols=columns("t"), table=sql.Identifier(table), where=where, order=_prefixed_order()
                )
            )
            all_params.extend([*params, limit])
    if len(branches) == 1:
        return sql.SQL("SELECT * FROM {} x").format(branches[0]), all_params
    union = sql.SQL(" UNION ALL ").join(branches)
    return (
        sql.SQL("SELECT * FROM ({union}) x ORDER BY {order} LIMIT %s").format(union=union, order=ORDER),
        [*all_params, limit],
    )


def _prefixed_order() -> sql.Composable:
    return sql.SQL("t.transaction_date DESC, t.created_at DESC, t.id DESC")


# Date windows tried in turn for a page: a page of a person's recent history is found in
# the latest month or two, and a lower date bound lets PostgreSQL skip every older monthly
# partition instead of starting an index scan in each of them. A sparse history widens
# the window until the page is full or the window is unbounded.
WINDOW_DAYS = (45, 200, None)


def fetch_page(
    conn: psycopg.Connection, parts: list[sql.Composable], f: Filters, *, limit: int, include_archived: bool
) -> list[dict[str, Any]]:
    if not parts:
        return []
    windows = (None,) if include_archived else WINDOW_DAYS
    top = f.after[0] if f.after is not None else (f.date_to or date.today())
    for days in windows:
        bounded = f
        if days is not None:
            floor = top - timedelta(days=days)
            if f.date_from is not None and f.date_from >= floor:
                continue  # the caller's own range is narrower: the unbounded query is the same
            bounded = replace(f, date_from=floor)
        query, params = list_query(parts, bounded, limit=limit, include_archived=include_archived)
        rows = conn.execute(query, params).fetchall()
        if len(rows) >= limit or days is None:
            return rows
    return rows
