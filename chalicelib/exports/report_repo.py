"""SQL behind the files: the transactions an export covers and the totals it shows.

Spending follows API.md "Analytics": outflows minus refunds, cancelled transactions
ignored; income is a positive amount in the Income tree or with no category, and a
positive amount in any other category is a refund. Budget spending follows API.md
"Budgets" (the category and its sub-categories, over the budget owner's accounts,
never below zero). With include_archived the archive table joins the live one.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from chalicelib.families.access import Access, Visibility, same_owner

_SOURCE_COLUMNS = sql.SQL(
    """t.id, t.user_id, t.family_id, t.account_id, t.category_id, t.amount, t.currency, t.description,
       t.merchant, t.transaction_date, t.posted_date, t.status, t.tags, t.notes, t.external_id, t.created_at"""
)


@dataclass(frozen=True)
class ExportScope:
    """Which transactions an export covers, as seen by the user who asked for it."""

    access: Access
    date_from: date
    date_to: date
    account_id: UUID | None = None
    family_id: UUID | None = None
    include_archived: bool = False


def _tables(include_archived: bool) -> list[str]:
    return ["transactions", "transactions_archive"] if include_archived else ["transactions"]


def source(scope: ExportScope) -> sql.Composed:
    """A FROM item (aliased by the caller) with the scope's transactions."""
    conditions = [
        sql.SQL("t.transaction_date BETWEEN {} AND {}").format(
            sql.Literal(scope.date_from), sql.Literal(scope.date_to)
        ),
        scope.access.visible("t"),
    ]
    if scope.family_id is not None:
        conditions.append(sql.SQL("t.family_id = {}").format(sql.Literal(scope.family_id)))
    if scope.account_id is not None:
        conditions.append(sql.SQL("t.account_id = {}").format(sql.Literal(scope.account_id)))
    where = sql.SQL(" AND ").join(conditions)
    selects = [
        sql.SQL("SELECT {cols} FROM {table} t WHERE {where}").format(
            cols=_SOURCE_COLUMNS, table=sql.Identifier(table), where=where
        )
        for table in _tables(scope.include_archived)
    ]
    return sql.SQL("(") + sql.SQL(" UNION ALL ").join(selects) + sql.SQL(")")


def account_of(conn: psycopg.Connection, account_id: UUID) -> dict[str, Any] | None:
    return conn.execute("SELECT id, user_id, family_id, name FROM accounts WHERE id = %s", (account_id,)).fetchone()


def family_name(conn: psycopg.Connection, family_id: UUID) -> str | None:
    row = conn.execute("SELECT name FROM family_groups WHERE id = %s", (family_id,)).fetchone()
    return row["name"] if row else None


def begin_snapshot(conn: psycopg.Connection) -> None:
    """Every query of one file sees the same data: rows, totals and budgets agree."""
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    # Sorting a large export can take longer than an API statement may.
    conn.execute("SET LOCAL statement_timeout = '10min'")


@dataclass(frozen=True)
class CategoryInfo:
    path: str
    top_id: UUID
    top_name: str


def category_paths(conn: psycopg.Connection, scope: ExportScope) -> dict[UUID, CategoryInfo]:
    """Full path ("Food & Dining > Groceries") and top-level parent of every category in scope."""
    query = sql.SQL(
        """WITH RECURSIVE used AS (
               SELECT DISTINCT s.category_id AS id FROM {src} s WHERE s.category_id IS NOT NULL
           ), up AS (
               SELECT u.id AS leaf, c.parent_id, c.name::text AS path, c.id AS top_id, c.name::text AS top_name,
                      1 AS depth
                 FROM used u JOIN categories c ON c.id = u.id AND {visible}
               UNION ALL
               SELECT up.leaf, p.parent_id, p.name || ' > ' || up.path, p.id, p.name::text, up.depth + 1
                 FROM up JOIN categories p ON p.id = up.parent_id
                WHERE up.depth < 32
           )
           SELECT leaf, path, top_id, top_name FROM up WHERE parent_id IS NULL"""
    ).format(src=source(scope), visible=scope.access.category_visible("c"))
    # A category the asker may not see (one member's own on a family row) is left blank.
    return {
        r["leaf"]: CategoryInfo(path=r["path"], top_id=r["top_id"], top_name=r["top_name"])
        for r in conn.execute(query).fetchall()
    }


_INCOME_TREE = sql.SQL(
    """WITH RECURSIVE income AS (
           SELECT id FROM categories WHERE is_default AND parent_id IS NULL AND name = 'Income'
           UNION SELECT c.id FROM categories c JOIN income i ON c.parent_id = i.id
       )"""
)
_IS_INCOME = sql.SQL("(s.amount > 0 AND (s.category_id IS NULL OR s.category_id IN (SELECT id FROM income)))")


def stream_transactions(conn: psycopg.Connection, scope: ExportScope, *, batch: int = 2000) -> Iterator[tuple]:
    """The scope's transactions oldest first, through a server-side cursor: memory stays
    flat whatever the row count. Rows: (transaction_date, posted_date, account name,
    category_id, description, merchant, amount, currency, status, tags, notes, external_id)."""
    query = sql.SQL(
        """SELECT s.transaction_date, s.posted_date, a.name, s.category_id, s.description, s.merchant, s.amount,
                  s.currency, s.status, s.tags, s.notes, s.external_id
             FROM {src} s JOIN accounts a ON a.id = s.account_id
            ORDER BY s.transaction_date, s.created_at, s.id"""
    ).format(src=source(scope))
    with conn.cursor(name="export_transactions", row_factory=tuple_row) as cursor:
        cursor.itersize = batch
        cursor.execute(query)
        yield from cursor


@dataclass(frozen=True)
class SpendingCell:
    """Totals of one (category, month): the building block of every report total."""

    category_id: UUID | None
    month: str
    income: Decimal
    spending: Decimal
    spending_count: int
    count: int


def spending_cells(conn: psycopg.Connection, scope: ExportScope) -> list[SpendingCell]:
    query = _INCOME_TREE + sql.SQL(
        """
        SELECT s.category_id, to_char(s.transaction_date, 'YYYY-MM') AS month,
               COALESCE(SUM(s.amount) FILTER (WHERE {is_income}), 0) AS income,
               COALESCE(SUM(-s.amount) FILTER (WHERE NOT {is_income}), 0) AS spending,
               COUNT(*) FILTER (WHERE NOT {is_income}) AS spending_count,
               COUNT(*) AS count
          FROM {src} s
         WHERE s.status <> 'cancelled'
         GROUP BY 1, 2"""
    ).format(src=source(scope), is_income=_IS_INCOME)
    return [SpendingCell(**r) for r in conn.execute(query).fetchall()]


def spending_by_merchant(conn: psycopg.Connection, scope: ExportScope, *, limit: int) -> list[dict[str, Any]]:
    query = _INCOME_TREE + sql.SQL(
        """
        SELECT s.merchant, SUM(-s.amount) AS amount, COUNT(*) AS count
          FROM {src} s
         WHERE s.status <> 'cancelled' AND s.merchant IS NOT NULL AND s.merchant <> '' AND NOT {is_income}
         GROUP BY s.merchant
        HAVING SUM(-s.amount) > 0
         ORDER BY amount DESC, s.merchant
         LIMIT {limit}"""
    ).format(src=source(scope), is_income=_IS_INCOME, limit=sql.Literal(limit))
    return conn.execute(query).fetchall()


def currencies(conn: psycopg.Connection, scope: ExportScope) -> list[str]:
    query = sql.SQL("SELECT DISTINCT s.currency FROM {src} s WHERE s.currency IS NOT NULL ORDER BY 1")
    return [r["currency"] for r in conn.execute(query.format(src=source(scope))).fetchall()]


def budgets_in_period(conn: psycopg.Connection, scope: ExportScope, *, owner: Visibility) -> list[dict]:
    """Active budgets overlapping the period whose owner matches `owner` (an SQL condition on b)."""
    query = sql.SQL(
        """SELECT b.id, b.user_id, b.family_id, b.name, b.period_type, b.start_date, b.end_date, b.total_amount,
                  b.currency,
                  COALESCE(json_agg(json_build_object(
                      'category_id', bc.category_id, 'allocated_amount', bc.allocated_amount::text,
                      'alert_threshold', bc.alert_threshold::text) ORDER BY bc.created_at, bc.id)
                      FILTER (WHERE bc.id IS NOT NULL), '[]') AS categories
             FROM budgets b LEFT JOIN budget_categories bc ON bc.budget_id = b.id AND bc.is_active
            WHERE b.is_active AND {owner} AND b.start_date <= {to} AND (b.end_date IS NULL OR b.end_date >= {frm})
            GROUP BY b.id
            ORDER BY b.name, b.id"""
    ).format(owner=owner, to=sql.Literal(scope.date_to), frm=sql.Literal(scope.date_from))
    return conn.execute(query).fetchall()


def budget_spent(
    conn: psycopg.Connection, *, include_archived: bool, periods: list[tuple[UUID, UUID, date, date]]
) -> dict[tuple[UUID, UUID, date], Decimal]:
    """Spent per (budget, category, period start) for the given (budget, category, start, end) rows."""
    if not periods:
        return {}
    budget_ids, category_ids, starts, ends = (list(col) for col in zip(*periods, strict=True))
    union = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT account_id, category_id, amount, transaction_date, status FROM {}").format(sql.Identifier(t))
        for t in _tables(include_archived)
    )
    query = sql.SQL(
        """WITH RECURSIVE p AS (
               SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::date[], %s::date[])
                        AS p(budget_id, category_id, period_start, period_end)
           ), tree AS (
               SELECT DISTINCT category_id AS root, category_id AS id FROM p
               UNION SELECT tree.root, c.id FROM categories c JOIN tree ON c.parent_id = tree.id
           )
           SELECT p.budget_id, p.category_id, p.period_start,
                  GREATEST(0, -COALESCE(SUM(t.amount), 0)) AS spent
             FROM p JOIN budgets b ON b.id = p.budget_id
             LEFT JOIN LATERAL (
                 SELECT t.amount FROM ({union}) t JOIN accounts a ON a.id = t.account_id
                  WHERE t.status <> 'cancelled'
                    AND t.transaction_date BETWEEN p.period_start AND p.period_end
                    AND t.category_id IN (SELECT id FROM tree WHERE tree.root = p.category_id)
                    AND {budget_accounts}
             ) t ON TRUE
            GROUP BY 1, 2, 3"""
    ).format(union=union, budget_accounts=same_owner("a", "b"))
    rows = conn.execute(query, (budget_ids, category_ids, starts, ends)).fetchall()
    return {(r["budget_id"], r["category_id"], r["period_start"]): r["spent"] for r in rows}


def category_labels(conn: psycopg.Connection, ids: list[UUID]) -> dict[UUID, str]:
    """Full paths of the given categories (budget lines may name categories nothing was spent in)."""
    if not ids:
        return {}
    rows = conn.execute(
        """WITH RECURSIVE up AS (
               SELECT c.id AS leaf, c.parent_id, c.name::text AS path, 1 AS depth
                 FROM categories c WHERE c.id = ANY(%s)
               UNION ALL
               SELECT up.leaf, p.parent_id, p.name || ' > ' || up.path, up.depth + 1
                 FROM up JOIN categories p ON p.id = up.parent_id WHERE up.depth < 32
           )
           SELECT leaf, path FROM up WHERE parent_id IS NULL""",
        (ids,),
    ).fetchall()
    return {r["leaf"]: r["path"] for r in rows}


def user_label(conn: psycopg.Connection, user_id: UUID) -> str:
    row = conn.execute("SELECT first_name, last_name, email FROM users WHERE id = %s", (user_id,)).fetchone()
    name = " ".join(part for part in (row["first_name"], row["last_name"]) if part)
    return f"{name} <{row['email']}>" if name else row["email"]
