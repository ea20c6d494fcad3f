"""Where unusual spending gets decided: the `unusual-spending` schedule (daily).

A recent outflow is judged against the same user's outflows of the trailing 90 days
before it: at the same merchant (normalized: trimmed, case-folded) or, when it has no
merchant, in the same category. With at least MIN_HISTORY earlier transactions, it is
flagged when its modified z-score 0.6745*(x - median)/MAD exceeds 3.5 (Iglewicz and
Hoaglin), or, when the history has no spread (MAD = 0), when it is more than three
times the median. Only amounts above the typical one are flagged: spending less than
usual is not news. Medians are exact (NUMERIC, mean of the two middle values).

Each transaction is flagged at most once: dedupe key unusual:{transaction_id}.
"""

import time
from dataclasses import dataclass
from datetime import date, timedelta

from psycopg import sql

from chalicelib.core.caching import invalidate_users
from chalicelib.infra import db
from chalicelib.infra.logging import logger
from chalicelib.notifications.service import RETURNING as NEW_NOTIFICATIONS
from chalicelib.notifications.service import announce_created

MIN_HISTORY = 5
HISTORY_DAYS = 90
# Transactions dated this many days back are still judged (statements arrive late).
LOOKBACK_DAYS = 7


@dataclass(frozen=True)
class UnusualSpendingReport:
    candidates: int
    flagged: int
    dry_run: bool
    elapsed_ms: int


_FLAGS = """
WITH cand AS (
    SELECT t.id, t.user_id, t.account_id, -t.amount AS x, t.currency, t.transaction_date, t.created_at,
           t.category_id, NULLIF(lower(btrim(t.merchant)), '') AS mkey, NULLIF(btrim(t.merchant), '') AS merchant
      FROM transactions t
     WHERE t.transaction_date BETWEEN {since} AND {until}
       AND t.amount < 0 AND t.status <> 'cancelled'
       AND (NULLIF(btrim(t.merchant), '') IS NOT NULL OR t.category_id IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM notifications n
                        WHERE n.user_id = t.user_id AND n.dedupe_key = 'unusual:' || t.id)
),
hist AS (
    SELECT c.id, -h.amount AS x
      FROM cand c
      JOIN transactions h ON h.user_id = c.user_id
                         AND h.transaction_date >= c.transaction_date - {days}
                         AND h.transaction_date <= c.transaction_date
                         AND (h.transaction_date, h.created_at, h.id) < (c.transaction_date, c.created_at, c.id)
     WHERE h.amount < 0 AND h.status <> 'cancelled'
       AND CASE WHEN c.mkey IS NOT NULL THEN lower(btrim(h.merchant)) = c.mkey
                ELSE h.category_id = c.category_id END
),
med AS (
    SELECT id, count(*) AS n,
           (percentile_disc(0.5) WITHIN GROUP (ORDER BY x) + percentile_disc(0.5) WITHIN GROUP (ORDER BY x DESC)) / 2
               AS median
      FROM hist GROUP BY id HAVING count(*) >= {min_history}
),
mad AS (
    SELECT h.id, (percentile_disc(0.5) WITHIN GROUP (ORDER BY abs(h.x - m.median))
                  + percentile_disc(0.5) WITHIN GROUP (ORDER BY abs(h.x - m.median) DESC)) / 2 AS mad
      FROM hist h JOIN med m ON m.id = h.id GROUP BY h.id
),
flags AS (
    SELECT c.*, m.n, round(m.median, 2) AS typical, d.mad, CASE WHEN c.merchant IS NOT NULL THEN 'at ' || c.merchant
                ELSE 'in ' || COALESCE(cat.name, 'this category') END AS place
      FROM cand c
      JOIN med m ON m.id = c.id
      JOIN mad d ON d.id = c.id
      LEFT JOIN categories cat ON cat.id = c.category_id
     WHERE c.x > m.median
       AND CASE WHEN d.mad = 0 THEN c.x > 3 * m.median ELSE 0.6745 * (c.x - m.median) > 3.5 * d.mad END
)"""

_INSERT = (
    """
INSERT INTO notifications (user_id, type, title, message, data, priority, dedupe_key, sent_at)
SELECT f.user_id, 'unusual_spending', left('Unusual spending ' || f.place, 255),
       'You spent ' || f.x || ' ' || f.currency || ' ' || f.place || ' on ' || f.transaction_date
           || '; you usually spend about ' || f.typical || ' ' || f.currency || ' there.',
       jsonb_build_object('transaction_id', f.id, 'account_id', f.account_id, 'merchant', f.merchant,
                          'category_id', f.category_id, 'amount', (-f.x)::text, 'typical_amount', f.typical::text,
                          'history_count', f.n, 'transaction_date', f.transaction_date),
       'high', 'unusual:' || f.id, now()
  FROM flags f
ON CONFLICT (user_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
"""
    + NEW_NOTIFICATIONS
)


def run_unusual_spending(*, dry_run: bool = False, today: date | None = None) -> UnusualSpendingReport:
    """Flag this week's outflows that are far above the user's usual at that merchant or category."""
    started = time.monotonic()
    until = today or date.today()
    params = {
        # One day past the server's date: users east of UTC may already be a day ahead.
        "until": sql.Literal(until + timedelta(days=1)),
        "since": sql.Literal(until - timedelta(days=LOOKBACK_DAYS)),
        "days": sql.Literal(HISTORY_DAYS),
        "min_history": sql.Literal(MIN_HISTORY),
    }
    flags = sql.SQL(_FLAGS).format(**params)
    with db.transaction() as conn:
        conn.execute("SET LOCAL statement_timeout = '5min'")
        candidates = conn.execute(flags + sql.SQL(" SELECT count(*) AS n FROM cand")).fetchone()["n"]
        if dry_run:
            rows = conn.execute(flags + sql.SQL(" SELECT user_id FROM flags")).fetchall()
        else:
            rows = conn.execute(flags + sql.SQL(_INSERT)).fetchall()
            invalidate_users({r["user_id"] for r in rows})
            announce_created(rows)
    report = UnusualSpendingReport(
        candidates=candidates, flagged=len(rows), dry_run=dry_run, elapsed_ms=int((time.monotonic() - started) * 1000)
    )
    logger.info("unusual-spending done", extra={"report": report.__dict__})
    return report
