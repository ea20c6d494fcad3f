"""SQL behind the dashboard. Spending as API.md "Analytics" defines it: income is a
positive amount in the Income tree or with no category, any other positive amount is a
refund; spending is outflows minus refunds, cancelled transactions ignored."""

from datetime import date
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from chalicelib.analytics.repo import HIDDEN_CATEGORY_LABEL
from chalicelib.budgets.spending import PERIOD_BOUNDS, readers_lines_cte
from chalicelib.families.access import Access, visible_to_each

# The Income category and everything under it.
_INCOME = """income AS (
    SELECT id FROM categories WHERE is_default AND parent_id IS NULL AND name = 'Income'
    UNION SELECT c.id FROM categories c JOIN income i ON c.parent_id = i.id
)"""

_TREES = """WITH RECURSIVE {income}, scoped AS (
        SELECT t.amount, t.category_id, t.transaction_date,
               (t.amount > 0 AND (t.category_id IS NULL OR t.category_id IN (SELECT id FROM income))) AS is_income
          FROM transactions t JOIN accounts a ON a.id = t.account_id
         WHERE {visible} AND t.status <> 'cancelled'
           AND t.transaction_date BETWEEN {month_start} AND {today}
    )"""


def _scoped(access: Access, today: date) -> sql.Composed:
    return sql.SQL(_TREES).format(
        income=sql.SQL(_INCOME),
        visible=access.visible("a"),
        month_start=sql.Literal(today.replace(day=1)),
        today=sql.Literal(today),
    )


def _readers(days: dict[UUID, date]) -> sql.Composed:
    """The readers CTE's rows: (viewer_id, today) for each recipient."""
    ids = sorted(days)
    return sql.SQL("SELECT * FROM unnest({ids}::uuid[], {days}::date[]) AS r(viewer_id, today)").format(
        ids=sql.Literal(ids), days=sql.Literal([days[i] for i in ids])
    )


# Each account's spending and income per day of the month is summed once, however many
# readers see the account (every member of a family sees its shared accounts); each reader
# then adds up the days of their own month to date.
_MONTH_FIGURES = """WITH RECURSIVE readers AS ({readers}), {income},
seen AS ({seen}),
by_day AS (
    SELECT t.account_id, t.transaction_date,
           SUM(-t.amount) FILTER (WHERE NOT t.is_income) AS spent,
           SUM(t.amount) FILTER (WHERE t.is_income) AS income
      FROM (SELECT t.account_id, t.transaction_date, t.amount,
                   (t.amount > 0 AND (t.category_id IS NULL OR t.category_id IN (SELECT id FROM income))) AS is_income
              FROM transactions t
             WHERE t.account_id IN (SELECT account_id FROM seen) AND t.status <> 'cancelled'
               AND t.transaction_date BETWEEN {first} AND {last}) t
     GROUP BY t.account_id, t.transaction_date
)
SELECT r.viewer_id,
       COALESCE(SUM(d.spent) FILTER (WHERE d.transaction_date = r.today), 0) AS spent_today,
       COALESCE(SUM(d.spent), 0) AS spent_month,
       COALESCE(SUM(d.income), 0) AS income_month
  FROM readers r
  LEFT JOIN seen s ON s.viewer_id = r.viewer_id
  LEFT JOIN by_day d ON d.account_id = s.account_id
                    AND d.transaction_date BETWEEN date_trunc('month', r.today)::date AND r.today
 GROUP BY r.viewer_id"""


def month_figures_of(conn: psycopg.Connection, days: dict[UUID, date]) -> dict[UUID, dict[str, Any]]:
    """Per reader (user id -> their today): spent today, spent and income this month to
    date, over the accounts each may read, in one statement."""
    if not days:
        return {}
    seen = visible_to_each("accounts", "a", readers="readers", columns=sql.SQL("a.id AS account_id"))
    query = sql.SQL(_MONTH_FIGURES).format(
        readers=_readers(days),
        income=sql.SQL(_INCOME),
        seen=seen,
        first=sql.Literal(min(days.values()).replace(day=1)),
        last=sql.Literal(max(days.values())),
    )
    return {row["viewer_id"]: row for row in conn.execute(query).fetchall()}


def budget_lines_of(conn: psycopg.Connection, days: dict[UUID, date]) -> dict[UUID, list[dict[str, Any]]]:
    """Per reader: the lines (budgets.spending) of the active budgets each may read, in the
    period containing their today; a budget read by many is summed once. Two statements
    for any number of readers: the periods' bounds, then the lines."""
    lines: dict[UUID, list[dict[str, Any]]] = {viewer: [] for viewer in days}
    if not days:
        return lines
    readers = _readers(days)
    bounds = conn.execute(readers_lines_cte(readers=readers) + PERIOD_BOUNDS).fetchone()
    if bounds["first"] is None:
        return lines  # no reader has an active budget today
    query = readers_lines_cte(readers=readers, within=(bounds["first"], bounds["last"])) + sql.SQL(
        """
        SELECT d.viewer_id, s.*
          FROM dated d
          JOIN spent s ON s.budget_id = d.budget_id AND s.period_start = d.period_start
         ORDER BY d.viewer_id, s.budget_id, s.category_id"""
    )
    for row in conn.execute(query).fetchall():
        lines[row["viewer_id"]].append(row)
    return lines


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
