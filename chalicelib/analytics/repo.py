"""Analytics in SQL (always available; the reference the Elasticsearch path must equal).

Classification (API.md "Analytics"): income is a positive amount in the default Income
tree or without a category; any other positive amount is a refund; spending is
outflows minus refunds; cancelled transactions never count. The scan groups the
scoped rows by (category, group key, inflow) first, so the category tree is walked
only for the few categories present, not per row.
"""

from datetime import date
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from chalicelib.families.access import Access, Visibility

# Group key of the first pass per group_by; `category` and `top_category` group on
# the category itself, resolved in the second pass.
_BASE_KEY = {
    "category": sql.SQL("NULL::text"),
    "top_category": sql.SQL("NULL::text"),
    "merchant": sql.SQL("t.merchant"),
    "month": sql.SQL("to_char(t.transaction_date, 'YYYY-MM')"),
    "account": sql.SQL("t.account_id::text"),
    "month_period": sql.SQL("date_trunc('month', t.transaction_date)::date::text"),
    "week_period": sql.SQL("date_trunc('week', t.transaction_date)::date::text"),
}

# The first pass: (category_id, key, inflow, amount, n) of the scoped rows. totals_repo
# gives the same rows from the monthly roll-up; everything after it is shared.
_BASE = """
    SELECT t.category_id, {key} AS key, t.amount > 0 AS inflow, sum(t.amount) AS amount, count(*) AS n
      FROM transactions t
     WHERE {where}
     GROUP BY 1, 2, 3
"""

_CLASSIFIED = """
WITH RECURSIVE base AS ({base}),
up AS (
    SELECT c.id AS start, c.id, c.parent_id, 0 AS depth
      FROM categories c WHERE c.id IN (SELECT category_id FROM base)
    UNION ALL
    SELECT up.start, p.id, p.parent_id, up.depth + 1
      FROM up JOIN categories p ON p.id = up.parent_id
     WHERE up.depth < 16
),
roots AS (SELECT start, id AS root_id FROM up WHERE parent_id IS NULL),
special AS (
    SELECT (SELECT id FROM categories WHERE is_default AND parent_id IS NULL AND name = 'Income') AS income,
           (SELECT id FROM categories WHERE is_default AND parent_id IS NULL AND name = 'Transfers') AS transfers
),
classified AS (
    SELECT b.category_id, r.root_id, b.key, b.inflow, b.amount, b.n,
           b.inflow AND (b.category_id IS NULL OR r.root_id = s.income) AS is_income,
           COALESCE(r.root_id = s.transfers, FALSE) AS is_transfer
      FROM base b CROSS JOIN special s LEFT JOIN roots r ON r.start = b.category_id
)
"""


def scope_conditions(
    access: Access, *, from_: date, to: date, account_id: UUID | None, family_id: UUID | None
) -> tuple[sql.Composable, dict[str, Any]]:
    conds: list[sql.Composable] = [
        access.visible("t"),
        sql.SQL("t.status <> 'cancelled'"),
        sql.SQL("t.transaction_date BETWEEN %(from)s AND %(to)s"),
    ]
    params: dict[str, Any] = {"from": from_, "to": to}
    if account_id is not None:
        conds.append(sql.SQL("t.account_id = %(account_id)s"))
        params["account_id"] = account_id
    if family_id is not None:
        conds.append(access.in_family(family_id, "t"))
        params["family_id"] = family_id
    return sql.SQL(" AND ").join(conds), params


HIDDEN_CATEGORY_LABEL = "Private category"


def _base(group_by: str, where: Visibility, base: sql.Composable | None) -> sql.Composable:
    return base if base is not None else sql.SQL(_BASE).format(key=_BASE_KEY[group_by], where=where)


def spending(
    conn: psycopg.Connection,
    access: Access,
    *,
    group_by: str,
    where: Visibility,
    params: dict,
    base: sql.Composable | None = None,
) -> list[dict]:
    """[{key, label, amount, count}] of spending per group (unordered); `base`, when given,
    replaces the first pass over `transactions` (totals_repo.base)."""
    if group_by in ("category", "top_category"):
        group_col = sql.SQL("c.category_id") if group_by == "category" else sql.SQL("c.root_id")
        final = sql.SQL(
            """SELECT {g}::text AS key,
                      CASE WHEN {g} IS NULL THEN 'Uncategorized' ELSE COALESCE(cat.name, {hidden}) END AS label,
                      -sum(c.amount) AS amount, sum(c.n)::int AS count
                 FROM classified c LEFT JOIN categories cat ON cat.id = {g} AND {visible}
                WHERE NOT c.is_income GROUP BY {g}, cat.name"""
        ).format(g=group_col, visible=access.category_visible("cat"), hidden=sql.Literal(HIDDEN_CATEGORY_LABEL))
    elif group_by == "account":
        final = sql.SQL(
            """SELECT c.key, a.name AS label, -sum(c.amount) AS amount, sum(c.n)::int AS count
                 FROM classified c JOIN accounts a ON a.id = c.key::uuid
                WHERE NOT c.is_income GROUP BY c.key, a.name"""
        )
    else:
        label = sql.SQL("COALESCE(c.key, 'No merchant')") if group_by == "merchant" else sql.SQL("c.key")
        final = sql.SQL(
            """SELECT c.key, {label} AS label, -sum(c.amount) AS amount, sum(c.n)::int AS count
                 FROM classified c WHERE NOT c.is_income GROUP BY c.key"""
        ).format(label=label)
    query = sql.SQL(_CLASSIFIED).format(base=_base(group_by, where, base)) + final
    return conn.execute(query, params).fetchall()


def cashflow(
    conn: psycopg.Connection,
    *,
    interval: str,
    where: Visibility,
    params: dict,
    base: sql.Composable | None = None,
) -> list[dict]:
    """[{period_start, income, spending}] per period, Transfers excluded."""
    query = sql.SQL(_CLASSIFIED).format(base=_base(f"{interval}_period", where, base)) + sql.SQL(
        """SELECT c.key::date AS period_start,
                  COALESCE(sum(c.amount) FILTER (WHERE c.is_income), 0) AS income,
                  COALESCE(-sum(c.amount) FILTER (WHERE NOT c.is_income), 0) AS spending
             FROM classified c WHERE NOT c.is_transfer
            GROUP BY c.key ORDER BY c.key"""
    )
    return conn.execute(query, params).fetchall()


def net_worth(
    conn: psycopg.Connection,
    access: Access,
    *,
    points: list[date],
    timezone: str,
    account_id: UUID | None,
    family_id: UUID | None,
) -> list[dict]:
    """[{date, assets, liabilities}] from end-of-day balances at each point; an account
    counts from the day it was opened or its first transaction, whichever is earlier."""
    conds: list[sql.Composable] = [access.visible("a")]
    params: dict[str, Any] = {"points": points, "tz": timezone, "last": points[-1]}
    if account_id is not None:
        conds.append(sql.SQL("a.id = %(account_id)s"))
        params["account_id"] = account_id
    if family_id is not None:
        conds.append(access.in_family(family_id, "a"))
        params["family_id"] = family_id
    query = sql.SQL(
        """WITH acc AS (
               SELECT a.id, a.opening_balance, (a.created_at AT TIME ZONE %(tz)s)::date AS opened
                 FROM accounts a WHERE {where}
           ),
           moves AS (
               SELECT t.account_id, t.transaction_date AS day, sum(t.amount) AS amount
                 FROM transactions t
                WHERE t.account_id IN (SELECT id FROM acc) AND t.status <> 'cancelled'
                  AND t.transaction_date <= %(last)s
                GROUP BY 1, 2
           ),
           first_move AS (SELECT account_id, min(day) AS day FROM moves GROUP BY 1),
           balances AS (
               SELECT p.d, a.id, a.opening_balance + COALESCE(sum(m.amount), 0) AS balance
                 FROM unnest(%(points)s::date[]) AS p(d)
                 CROSS JOIN acc a
                 LEFT JOIN first_move f ON f.account_id = a.id
                 LEFT JOIN moves m ON m.account_id = a.id AND m.day <= p.d
                WHERE a.opened <= p.d OR f.day <= p.d
                GROUP BY p.d, a.id, a.opening_balance
           )
           SELECT d AS date,
                  COALESCE(sum(balance) FILTER (WHERE balance > 0), 0) AS assets,
                  COALESCE(-sum(balance) FILTER (WHERE balance < 0), 0) AS liabilities
             FROM balances GROUP BY d ORDER BY d"""
    ).format(where=sql.SQL(" AND ").join(conds))
    return conn.execute(query, params).fetchall()


def category_roots(conn: psycopg.Connection, ids: list[str]) -> tuple[dict[str, str], str | None, str | None]:
    """({category id: top-level ancestor id}, Income id, Transfers id) for these categories."""
    rows = conn.execute(
        """WITH RECURSIVE up AS (
               SELECT c.id AS start, c.id, c.parent_id, 0 AS depth FROM categories c WHERE c.id = ANY(%s::uuid[])
               UNION ALL
               SELECT up.start, p.id, p.parent_id, up.depth + 1 FROM up JOIN categories p ON p.id = up.parent_id
                WHERE up.depth < 16)
           SELECT start::text AS start, id::text AS root FROM up WHERE parent_id IS NULL""",
        (ids,),
    ).fetchall()
    special = conn.execute(
        """SELECT (SELECT id::text FROM categories
                    WHERE is_default AND parent_id IS NULL AND name = 'Income') AS income,
                  (SELECT id::text FROM categories
                    WHERE is_default AND parent_id IS NULL AND name = 'Transfers') AS transfers"""
    ).fetchone()
    return {r["start"]: r["root"] for r in rows}, special["income"], special["transfers"]


def names(conn: psycopg.Connection, access: Access, table: str, ids: list[str]) -> dict[str, str]:
    """Names of the categories or accounts among `ids` that the caller may see."""
    visible = access.category_visible("x") if table == "categories" else access.visible("x")
    query = sql.SQL("SELECT x.id::text AS id, x.name FROM {} x WHERE x.id = ANY(%s::uuid[]) AND {}").format(
        sql.Identifier(table), visible
    )
    return {r["id"]: r["name"] for r in conn.execute(query, (ids,))}
