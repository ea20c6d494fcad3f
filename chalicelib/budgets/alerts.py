"""Where a budget alert gets decided: the `budget-alerts` schedule (hourly) and the
per-user pass an import runs once it completes.

One set-based statement evaluates every active budget in its current period (the
owner's local today) and inserts a `budget_alert` for each category that reached its
threshold (`warning`) or went over 100 % (`exceeded`). Each alert carries the dedupe key
budget:{budget}:{category}:{period_start}:{level}; the unique index on (user_id,
dedupe_key) makes it once per budget, category, period and level however many runs
overlap (INSERT … ON CONFLICT DO NOTHING, no read-then-write). A family budget alerts
every member of the family.
"""

import time
from dataclasses import dataclass
from uuid import UUID

import psycopg
from psycopg import sql

from chalicelib.budgets.spending import lines_cte
from chalicelib.core.caching import invalidate_users
from chalicelib.families.access import load_access
from chalicelib.infra import db
from chalicelib.infra.logging import logger
from chalicelib.notifications.service import RETURNING as NEW_NOTIFICATIONS
from chalicelib.notifications.service import announce_created


@dataclass(frozen=True)
class BudgetAlertsReport:
    alerts_created: int
    users_notified: int
    dry_run: bool
    elapsed_ms: int


_HITS = sql.SQL(
    """,
hits AS (
    SELECT s.*, lv.level
      FROM spent s
     CROSS JOIN LATERAL (VALUES ('warning'), ('exceeded')) lv(level)
     WHERE s.category_id IS NOT NULL AND s.spent > 0
       AND CASE lv.level WHEN 'warning' THEN s.spent >= s.alert_threshold * s.allocated_amount
                         ELSE s.spent > s.allocated_amount END
),
alerts AS (
    SELECT COALESCE(fm.user_id, h.user_id) AS recipient, h.*, c.name AS category_name,
           'budget:' || h.budget_id || ':' || h.category_id || ':' || h.period_start || ':' || h.level AS dedupe_key
      FROM hits h
      JOIN categories c ON c.id = h.category_id
      LEFT JOIN family_members fm ON fm.family_id = h.family_id
)"""
)

_INSERT = sql.SQL(
    """
INSERT INTO notifications (user_id, type, title, message, data, priority, dedupe_key, sent_at)
SELECT a.recipient, 'budget_alert',
       left(CASE a.level WHEN 'exceeded' THEN a.budget_name || ': ' || a.category_name || ' is over budget'
                         ELSE a.budget_name || ': ' || a.category_name || ' at '
                              || round(a.spent * 100 / a.allocated_amount) || '%' END, 255),
       'Spent ' || a.spent || ' of ' || a.allocated_amount || ' ' || a.currency || ' on ' || a.category_name
           || ' in the period ' || a.period_start || ' to ' || a.period_end
           || ' (' || round(a.spent * 100 / a.allocated_amount) || '%).',
       jsonb_build_object('budget_id', a.budget_id, 'category_id', a.category_id, 'level', a.level,
                          'period_start', a.period_start, 'period_end', a.period_end,
                          'spent_amount', a.spent::text, 'allocated_amount', a.allocated_amount::text,
                          'alert_threshold', a.alert_threshold),
       CASE a.level WHEN 'exceeded' THEN 'high' ELSE 'normal' END,
       a.dedupe_key, now()
  FROM alerts a
ON CONFLICT (user_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
"""
    + NEW_NOTIFICATIONS
)

_PENDING = sql.SQL(
    """
SELECT a.recipient AS user_id FROM alerts a
 WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = a.recipient AND n.dedupe_key = a.dedupe_key)"""
)


def _evaluate(conn: psycopg.Connection, *, where: sql.Composable, dry_run: bool) -> tuple[int, set[UUID]]:
    statement = lines_cte(where=where) + _HITS + (_PENDING if dry_run else _INSERT)
    rows = conn.execute(statement).fetchall()
    users = {r["user_id"] for r in rows}
    if not dry_run:
        invalidate_users(users)
        announce_created(rows)
    return len(rows), users


def evaluate_budget_alerts_for_user(conn: psycopg.Connection, *, user_id: UUID) -> int:
    """Alert on the budgets a user's new transactions can move (their personal budgets
    and their families'), inside the caller's transaction; returns alerts created."""
    where = sql.SQL("b.is_active AND {visible}").format(visible=load_access(conn, user_id).visible("b"))
    created, _ = _evaluate(conn, where=where, dry_run=False)
    return created


def run_budget_alerts(*, dry_run: bool = False) -> BudgetAlertsReport:
    """The hourly pass over every active budget."""
    started = time.monotonic()
    with db.transaction() as conn:
        # A full pass over large data may take longer than an API statement is allowed;
        # its hash joins and aggregates want more than the default 4 MB; JIT compiling
        # costs ~0.3 s here and gains nothing on a plan of hash joins.
        conn.execute("SET LOCAL statement_timeout = '5min'")
        conn.execute("SET LOCAL work_mem = '64MB'")
        conn.execute("SET LOCAL jit = off")
        created, users = _evaluate(conn, where=sql.SQL("b.is_active"), dry_run=dry_run)
    report = BudgetAlertsReport(
        alerts_created=created,
        users_notified=len(users),
        dry_run=dry_run,
        elapsed_ms=int((time.monotonic() - started) * 1000),
    )
    logger.info("budget-alerts done", extra={"report": report.__dict__})
    return report
