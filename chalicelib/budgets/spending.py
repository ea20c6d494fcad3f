"""What a budget's categories have spent in a period, computed set-based in SQL for
any number of budgets at once (status, dashboard and the budget-alerts schedule all
read it from here, so they can never disagree).

Spent (API.md "Budgets"): outflows minus refunds in the category and its
sub-categories within the period, cancelled transactions ignored, over the owner's
personal accounts (a family budget: the family's accounts), never below zero.
"""

from datetime import date

from psycopg import sql

from chalicelib.families.access import visible_to_each

# Budget periods that contain a date, from {asked}: rows of (viewer_id, budget_id, on_date).
LINES_CTE = """
zones AS MATERIALIZED (SELECT name FROM pg_timezone_names),
asked AS (
    {asked}
),
-- Each (reader, budget period) asked about; viewer_id is NULL unless readers are given.
dated AS (
    SELECT q.viewer_id, b.id AS budget_id, p.period_start, p.period_end
      FROM asked q
      JOIN budgets b ON b.id = q.budget_id
     CROSS JOIN LATERAL budget_period(b.period_type, b.start_date, b.end_date, q.on_date) p
),
-- A budget period read by many readers (a family's budget, every member's dashboard) is
-- summed once.
active AS (
    SELECT DISTINCT b.id AS budget_id, b.user_id, b.family_id, b.name AS budget_name, b.currency,
           d.period_start, d.period_end
      FROM dated d JOIN budgets b ON b.id = d.budget_id
),
lines AS (
    SELECT a.*, bc.category_id, bc.allocated_amount, bc.alert_threshold
      FROM active a
      LEFT JOIN budget_categories bc ON bc.budget_id = a.budget_id AND bc.is_active
),
tree AS (
    SELECT DISTINCT category_id AS root, category_id AS id FROM lines WHERE category_id IS NOT NULL
    UNION
    SELECT tree.root, c.id FROM categories c JOIN tree ON c.parent_id = tree.id
),
scope AS (
    SELECT a.budget_id, acc.id AS account_id
      FROM active a JOIN accounts acc ON acc.user_id = a.user_id AND acc.family_id IS NULL
     WHERE a.family_id IS NULL
    UNION ALL
    SELECT a.budget_id, acc.id FROM active a JOIN accounts acc ON acc.family_id = a.family_id
),
-- Every (account, leaf category) whose transactions count for a budget line, so that
-- transactions join on both keys at once: joined on the account alone first, each
-- transaction would meet every budget of its owner before the category and period
-- filters, and the pass would grow faster than the data.
keys AS MATERIALIZED (
    SELECT l.budget_id, l.category_id AS root, s.account_id, tree.id AS category_id, l.period_start, l.period_end
      FROM lines l
      JOIN scope s ON s.budget_id = l.budget_id
      JOIN tree ON tree.root = l.category_id
),
net AS (
    SELECT k.budget_id, k.period_start, k.root AS category_id, -SUM(t.amount) AS net
      FROM keys k
      JOIN transactions t ON t.account_id = k.account_id AND t.category_id = k.category_id
                         AND t.transaction_date BETWEEN k.period_start AND k.period_end
     WHERE t.status <> 'cancelled'
       -- Partitions outside every period are skipped: at plan time when the caller knows
       -- the bounds (`within`), else when execution starts.
       AND t.transaction_date >= {first}
       AND t.transaction_date <= {last}
     GROUP BY k.budget_id, k.period_start, k.root
),
spent AS (
    SELECT l.*, GREATEST(0.00, COALESCE(n.net, 0.00)) AS spent
      FROM lines l
      LEFT JOIN net n ON n.budget_id = l.budget_id AND n.period_start = l.period_start
                     AND n.category_id = l.category_id
)"""

OWNER_TODAY = sql.SQL("(now() AT TIME ZONE COALESCE(z.name, 'UTC'))::date")

# Budgets {where} filters (`b`) on {on_date}, an SQL date expression that may refer to `u`
# (the owner, for the owner's local today) and `z` (the owner's timezone). An owner whose
# users.timezone PostgreSQL does not know counts in UTC rather than failing the whole pass.
_BY_BUDGET = """SELECT NULL::uuid AS viewer_id, b.id AS budget_id, {on_date} AS on_date
      FROM budgets b
      JOIN users u ON u.id = b.user_id
      LEFT JOIN zones z ON z.name = u.timezone
     WHERE {where}"""


_ZONES = "zones AS MATERIALIZED (SELECT name FROM pg_timezone_names),"
# pg_timezone_names reads the time-zone files on every query (20-80 ms here): a caller that
# gives the date itself (status, dashboard) does not need it.
_NO_ZONES = "zones AS (SELECT NULL::text AS name WHERE false),"


def _bounds(within: tuple[date, date] | None) -> dict[str, sql.Composable]:
    if within is None:
        return {
            "first": sql.SQL("(SELECT min(period_start) FROM active)"),
            "last": sql.SQL("(SELECT max(period_end) FROM active)"),
        }
    return {"first": sql.Literal(within[0]), "last": sql.Literal(within[1])}


def lines_cte(*, where: sql.Composable, on_date: sql.Composable = OWNER_TODAY) -> sql.Composed:
    """`WITH RECURSIVE …` ending in CTE `spent`: one row per (active budget period, category)
    with allocated_amount, alert_threshold and spent (category_id NULL for a budget with no
    categories)."""
    cte = LINES_CTE if on_date is OWNER_TODAY else LINES_CTE.replace(_ZONES, _NO_ZONES, 1)
    asked = sql.SQL(_BY_BUDGET).format(where=where, on_date=on_date)
    return sql.SQL("WITH RECURSIVE " + cte).format(asked=asked, **_bounds(None))


# The first and last day of the periods asked about, from the same CTEs: nothing after
# `dated` is planned, so this costs a fraction of the lines' statement, whose planning
# (an index scan per partition of transactions) it then cuts to the partitions in range.
PERIOD_BOUNDS = sql.SQL(" SELECT min(period_start) AS first, max(period_end) AS last FROM dated")


def readers_lines_cte(*, readers: sql.Composable, within: tuple[date, date] | None = None) -> sql.Composed:
    """`lines_cte` for many readers at once: `readers` is a SELECT of (viewer_id, today);
    each reader is asked about the active budgets they may read (families.access) in the
    period containing their own today. CTE `dated` maps each viewer_id to the
    (budget_id, period_start) lines of `spent` that are theirs. `within`: the first and
    last day of those periods, when known (PERIOD_BOUNDS)."""
    seen = visible_to_each(
        "budgets",
        "b",
        readers="readers",
        columns=sql.SQL("b.id AS budget_id, b.is_active, r.today AS on_date"),
    )
    asked = sql.SQL("SELECT viewer_id, budget_id, on_date FROM ({seen}) seen WHERE is_active").format(seen=seen)
    cte = LINES_CTE.replace(_ZONES, _NO_ZONES, 1)
    return sql.SQL("WITH RECURSIVE readers AS ({readers}), ").format(readers=readers) + sql.SQL(cte).format(
        asked=asked, **_bounds(within)
    )


def budget_lines(conn, *, where: sql.Composable, on_date: sql.Composable = OWNER_TODAY) -> list[dict]:
    query = lines_cte(where=where, on_date=on_date) + sql.SQL(
        """
        SELECT s.*, c.name AS category_name
          FROM spent s LEFT JOIN categories c ON c.id = s.category_id
         ORDER BY s.budget_id, c.name, s.category_id"""
    )
    return conn.execute(query).fetchall()
