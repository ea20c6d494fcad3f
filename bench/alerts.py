"""Benchmark: one `budget-alerts` pass over 10,000 users, then over twice the data.

    .venv/bin/python bench/alerts.py [--users 10000] [--keep]

Creates its own database (fiscaflow_bench_alerts_<pid>), migrates it and seeds, set-based,
USERS users with one account, 3 monthly budgets of 2 top-level categories each, and 50
transactions per user per month for this month and the last (sub-categories, 3 % refunds,
2 % cancelled, four timezones). Times a full pass (alerts created) and a second pass (all
alerts already sent: the steady state of an hourly schedule), then seeds as many users
again and repeats. Drops the database at the end. Goal (issue 6): under 10 s, growth at
most about linear.
"""

import argparse
import os
import secrets
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = f"fiscaflow_bench_alerts_{os.getpid()}"
DB_URL = psycopg.conninfo.make_conninfo(ADMIN_URL, dbname=DB_NAME)
TX_PER_MONTH = 50

SEED_USERS = """
WITH new_users AS (
    INSERT INTO users (email, password_hash, timezone)
    SELECT 'bench-' || n || '@example.com', 'not-a-login-hash',
           (ARRAY['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Tokyo'])[1 + n %% 4]
      FROM generate_series(%(first)s::int, %(last)s::int) n
    RETURNING id
)
INSERT INTO accounts (user_id, name, type) SELECT id, 'Checking', 'checking' FROM new_users
"""

SEED_BUDGETS = """
WITH tops AS (
    SELECT array_agg(id ORDER BY name) AS ids FROM categories
     WHERE is_default AND parent_id IS NULL
       AND name IN ('Food & Dining', 'Shopping', 'Transportation', 'Utilities', 'Entertainment', 'Health')
), new_budgets AS (
    INSERT INTO budgets (user_id, name, period_type, start_date, total_amount)
    SELECT a.user_id, 'Budget ' || k, 'monthly', DATE '2024-01-01', 1000
      FROM accounts a CROSS JOIN generate_series(0, 2) k
     WHERE a.user_id IN (SELECT id FROM users WHERE email LIKE 'bench-%%' AND id NOT IN (SELECT user_id FROM budgets))
    RETURNING id, name
)
INSERT INTO budget_categories (budget_id, category_id, allocated_amount, alert_threshold)
SELECT b.id, tops.ids[1 + substr(b.name, 8)::int * 2 + j], 150 + (random() * 500)::int, 0.80
  FROM new_budgets b CROSS JOIN generate_series(0, 1) j CROSS JOIN tops
"""

SEED_TRANSACTIONS = """
WITH cats AS (
    SELECT array_agg(c.id ORDER BY c.name) AS ids FROM categories c
      LEFT JOIN categories p ON p.id = c.parent_id
     WHERE c.is_default AND COALESCE(p.name, c.name) IN
           ('Food & Dining', 'Shopping', 'Transportation', 'Utilities', 'Entertainment', 'Health', 'Travel')
), fresh AS (
    SELECT a.id AS account_id, a.user_id FROM accounts a
     WHERE NOT EXISTS (SELECT 1 FROM transactions t WHERE t.account_id = a.id)
)
INSERT INTO transactions (user_id, account_id, category_id, amount, description, merchant, transaction_date, status)
SELECT f.user_id, f.account_id, cats.ids[1 + (random() * (array_length(cats.ids, 1) - 1))::int],
       CASE WHEN random() < 0.03 THEN round((1 + random() * 30)::numeric, 2)
            ELSE -round((1 + random() * 40)::numeric, 2) END,
       'Card payment', 'Merchant ' || (random() * 40)::int,
       (date_trunc('month', current_date) - make_interval(months => m))::date + (random() * 27)::int,
       CASE WHEN random() < 0.02 THEN 'cancelled' ELSE 'posted' END
  FROM fresh f CROSS JOIN cats CROSS JOIN generate_series(0, 1) m CROSS JOIN generate_series(1, %(per_month)s::int) n
"""


def seed(conn: psycopg.Connection, *, first: int, last: int) -> float:
    started = time.perf_counter()
    conn.execute(SEED_USERS, {"first": first, "last": last})
    conn.execute(SEED_BUDGETS)
    conn.execute(SEED_TRANSACTIONS, {"per_month": TX_PER_MONTH})
    conn.execute("ANALYZE")
    return time.perf_counter() - started


def counts(conn: psycopg.Connection) -> dict[str, int]:
    return {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("users", "budgets", "budget_categories", "transactions", "notifications")
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    os.environ.update(
        {"DATABASE_URL": DB_URL, "REDIS_KEY_PREFIX": f"bench:alerts:{secrets.token_hex(3)}:", "LOG_LEVEL": "WARNING"}
    )
    from chalicelib.budgets.alerts import run_budget_alerts
    from chalicelib.infra import cache, db
    from chalicelib.infra.migrations import migrate

    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(DB_NAME)))
    try:
        migrate(DB_URL)
        results = []
        with psycopg.connect(DB_URL, autocommit=True) as conn:
            for scale in (1, 2):
                seconds = seed(conn, first=(scale - 1) * args.users + 1, last=scale * args.users)
                sizes = counts(conn)
                print(f"seeded x{scale} in {seconds:.1f} s: {sizes}", flush=True)
                first = run_budget_alerts()
                steady = run_budget_alerts()
                results.append((scale, sizes, first, steady))
                print(
                    f"x{scale}: first pass {first.elapsed_ms / 1000:.2f} s ({first.alerts_created} alerts), "
                    f"steady pass {steady.elapsed_ms / 1000:.2f} s ({steady.alerts_created} alerts)",
                    flush=True,
                )
        (_, _, f1, s1), (_, _, f2, s2) = results
        print(
            f"summary: first pass {f1.elapsed_ms / 1000:.2f} s -> {f2.elapsed_ms / 1000:.2f} s "
            f"(x{f2.elapsed_ms / max(f1.elapsed_ms, 1):.2f}); steady pass {s1.elapsed_ms / 1000:.2f} s -> "
            f"{s2.elapsed_ms / 1000:.2f} s (x{s2.elapsed_ms / max(s1.elapsed_ms, 1):.2f}) for twice the data"
        )
    finally:
        db.close_pool()
        client = cache.client()
        if client is not None:
            for key in client.scan_iter(match=f"{os.environ['REDIS_KEY_PREFIX']}*", count=1000):
                client.delete(key)
        if not args.keep:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(
                    psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(DB_NAME))
                )


if __name__ == "__main__":
    main()
