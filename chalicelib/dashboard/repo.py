"""SQL behind the dashboard. Spending as API.md "Analytics" defines it: income is a
positive amount in the Income tree or with no category, any other positive amount is a
refund; spending is outflows minus refunds, cancelled transactions ignored."""

from datetime import date
from typing import Any

import psycopg
from psycopg import sql

from chalicelib.analytics.repo import HIDDEN_CATEGORY_LABEL
from chalicelib.families.access import Access

_TREES = """WITH RECURSIVE income AS (
        SELECT id FROM categories WHERE is_default AND parent_id IS NULL AND name = 'Income'
        UNION SELECT c.id FROM categories c JOIN income i ON c.parent_id = i.id
    ), scoped AS (
        SELECT t.amount, t.category_id, t.transaction_date,
               (t.amount > 0 AND (t.category_id IS NULL OR t.category_id IN (SELECT id FROM income))) AS is_income
          FROM transactions t JOIN accounts a ON a.id = t.account_id
         WHERE {visible} AND t.status <> 'cancelled'
           AND t.transaction_date BETWEEN {month_start} AND {today}
    )"""


def _scoped(access: Access, today: date) -> sql.Composed:
    return sql.SQL(_TREES).format(
        visible=access.visible("a"), month_start=sql.Literal(today.replace(day=1)), today=sql.Literal(today)
    )


def month_figures(conn: psycopg.Connection, access: Access, today: date) -> dict[str, Any]:
    query = _scoped(access, today) + sql.SQL(
        """
        SELECT COALESCE(SUM(-amount) FILTER (WHERE NOT is_income AND transaction_date = {today}), 0) AS spent_today,
               COALESCE(SUM(-amount) FILTER (WHERE NOT is_income), 0) AS spent_month,
               COALESCE(SUM(amount) FILTER (WHERE is_income), 0) AS income_month
          FROM scoped"""
    ).format(today=sql.Literal(today))
    return conn.execute(query).fetchone()


def top_categories(conn: psycopg.Connection, access: Access, today: date, *, limit: int = 5) -> list[dict[str, Any]]:
    """This month's spending per top-level category, largest first (sub-categories rolled up)."""
    query = _scoped(access, today) + sql.SQL(
        """, up AS (
            SELECT c.id AS leaf, c.id AS node, c.parent_id, 0 AS depth FROM categories c
             WHERE c.id IN (SELECT DISTINCT category_id FROM scoped WHERE category_id IS NOT NULL)
            UNION ALL
            SELECT up.leaf, p.id, p.parent_id, up.depth + 1 FROM up JOIN categories p ON p.id = up.parent_id
             WHERE up.depth < 32
        ), top AS (SELECT leaf, node AS top_id FROM up WHERE parent_id IS NULL)
        SELECT top.top_id AS category_id, COALESCE(c.name, {hidden}) AS name, SUM(-s.amount) AS amount
          FROM scoped s JOIN top ON top.leaf = s.category_id
          LEFT JOIN categories c ON c.id = top.top_id AND {visible}
         WHERE NOT s.is_income
         GROUP BY top.top_id, c.name
        HAVING SUM(-s.amount) > 0
         ORDER BY amount DESC, c.name
         LIMIT {limit}"""
    ).format(limit=sql.Literal(limit), visible=access.category_visible("c"), hidden=sql.Literal(HIDDEN_CATEGORY_LABEL))
    return conn.execute(query).fetchall()
