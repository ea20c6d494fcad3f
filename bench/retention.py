"""Benchmark: the `retention` run archiving the oldest three of eight years of
transactions (5,000,000 rows), next to a plain DELETE of the same rows and the seed's
INSERT ... SELECT + DELETE, on the same data.

    .venv/bin/python bench/retention.py [--rows 5000000] [--keep]

Creates its own database (fiscaflow_bench_retention) and bucket, drops both at the end
unless --keep. The data is generated set-based with triggers off (balances are then set
in one UPDATE and checked), into the fully indexed schema the migrations make. The DELETE
and the copy-and-delete are timed inside transactions that are rolled back, then VACUUM
runs, then the real retention run moves the months; balances are compared before/after.
"""

import argparse
import os
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB = "fiscaflow_bench_retention"
URL = psycopg.conninfo.make_conninfo(ADMIN_URL, dbname=DB)
os.environ.update({"DATABASE_URL": URL, "S3_BUCKET": "fiscaflow-bench-retention", "LOG_LEVEL": "WARNING"})

ACCOUNTS = 1000
CHUNK = 500_000


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def timed(conn, label: str, statement: str, params=None) -> float:
    started = time.monotonic()
    rows = conn.execute(statement, params).rowcount
    seconds = time.monotonic() - started
    log(f"{label}: {rows} rows in {seconds:.2f}s")
    return seconds


def generate(rows: int, today: date) -> None:
    from chalicelib.retention.units import shift_month

    first = shift_month(today.replace(day=1), -8 * 12)
    days = (today - first).days
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute("SET statement_timeout = 0")
        user = conn.execute(
            "INSERT INTO users (email, password_hash) VALUES ('bench@example.com', 'x') RETURNING id"
        ).fetchone()[0]
        conn.execute(
            """INSERT INTO accounts (user_id, name, type, opening_balance, allow_negative)
               SELECT %s, 'Account ' || g, 'checking', 1000, true FROM generate_series(1, %s) g""",
            (user, ACCOUNTS),
        )
        accounts = [r[0] for r in conn.execute("SELECT id FROM accounts ORDER BY id")]
        conn.execute("SELECT ensure_transaction_partitions(%s, %s)", (first, shift_month(today.replace(day=1), 3)))
        # Triggers off for the load only: the balances are then set in one statement below.
        conn.execute("SET session_replication_role = replica")
        for lo in range(1, rows + 1, CHUNK):
            hi = min(lo + CHUNK - 1, rows)
            started = time.monotonic()
            conn.execute(
                """INSERT INTO transactions (user_id, account_id, amount, description, merchant, transaction_date,
                                             status, categorization_source)
                   SELECT %(user)s, (%(accounts)s::uuid[])[1 + g %% %(n)s],
                          CASE WHEN (g * 7919) %% 20000 = 12000 THEN 1
                               ELSE round((((g * 7919) %% 20000) - 12000)::numeric / 100, 2) END,
                          (ARRAY['Groceries', 'Coffee', 'Rent', 'Salary', 'Fuel', 'Pharmacy', 'Books'])[1 + g %% 7],
                          (ARRAY['ACME Market', 'Bean Bar', 'Landlord Ltd', 'Employer Inc', 'Shell'])[1 + g %% 5],
                          %(first)s::date + (g %% %(days)s)::int,
                          CASE WHEN g %% 50 = 0 THEN 'cancelled' ELSE 'posted' END, 'manual'
                     FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) g""",
                {"user": user, "accounts": accounts, "n": ACCOUNTS, "first": first, "days": days, "lo": lo, "hi": hi},
            )
            log(f"generated {hi:,} rows ({(hi - lo + 1) / (time.monotonic() - started):,.0f} rows/s)")
        conn.execute("SET session_replication_role = DEFAULT")
        conn.execute(
            """UPDATE accounts a SET balance = a.opening_balance + s.total
                 FROM (SELECT account_id, sum(amount) AS total FROM transactions
                        WHERE status <> 'cancelled' GROUP BY account_id) s
                WHERE s.account_id = a.id"""
        )
        conn.execute("VACUUM ANALYZE")


def balances(conn) -> dict:
    return dict(conn.execute("SELECT id, balance FROM accounts").fetchall())


def balances_hold(conn) -> bool:
    return conn.execute(
        """SELECT bool_and(a.balance = a.opening_balance + COALESCE(l.s, 0) + COALESCE(r.s, 0))
             FROM accounts a
             LEFT JOIN (SELECT account_id, sum(amount) s FROM transactions WHERE status <> 'cancelled'
                         GROUP BY 1) l ON l.account_id = a.id
             LEFT JOIN (SELECT account_id, sum(amount) s FROM transactions_archive WHERE status <> 'cancelled'
                         GROUP BY 1) r ON r.account_id = a.id"""
    ).fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    from chalicelib.infra import db, storage
    from chalicelib.infra.migrations import migrate
    from chalicelib.retention.service import run_retention
    from chalicelib.retention.units import archive_before

    today = datetime.now(UTC).date()
    before = archive_before(today)
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DB}")
    try:
        migrate(URL)
        storage.ensure_bucket()
        started = time.monotonic()
        generate(args.rows, today)
        log(f"generated {args.rows:,} transactions over 8 years in {time.monotonic() - started:.0f}s")
        with psycopg.connect(URL, autocommit=True) as conn:
            conn.execute("SET statement_timeout = 0")
            old = conn.execute("SELECT count(*) FROM transactions WHERE transaction_date < %s", (before,)).fetchone()[0]
            log(f"{old:,} rows older than {before} (the oldest three years)")
            start_balances = balances(conn)
            assert balances_hold(conn)

            conn.execute("BEGIN")
            delete_s = timed(
                conn, "plain DELETE (rolled back)", "DELETE FROM transactions WHERE transaction_date < %s", (before,)
            )
            conn.execute("ROLLBACK")
            conn.execute("BEGIN")
            copy_s = timed(
                conn,
                "seed INSERT ... SELECT into the archive (rolled back)",
                "INSERT INTO transactions_archive SELECT * FROM transactions WHERE transaction_date < %s",
                (before,),
            )
            copy_s += timed(
                conn, "  + DELETE (rolled back)", "DELETE FROM transactions WHERE transaction_date < %s", (before,)
            )
            conn.execute("ROLLBACK")
            conn.execute("VACUUM ANALYZE transactions")
            conn.execute("VACUUM ANALYZE transactions_archive")

            started = time.monotonic()
            report = run_retention()
            retention_s = time.monotonic() - started
            log(
                f"retention run: {report.transactions_archived:,} rows in {report.months_archived} months "
                f"({report.months_deferred} deferred) in {retention_s:.2f}s"
            )
            assert report.transactions_archived == old, (report.transactions_archived, old)
            assert balances(conn) == start_balances, "a balance changed"
            assert balances_hold(conn)
            print(
                f"RESULT rows={args.rows} archived={old} months={report.months_archived} "
                f"retention_s={retention_s:.2f} plain_delete_s={delete_s:.2f} seed_copy_and_delete_s={copy_s:.2f}"
            )
    finally:
        db.close_pool()
        try:
            storage.delete_prefix("")
            storage.client().remove_bucket(storage.bucket())
        except Exception as exc:  # the bucket may never have been made
            log(f"bucket cleanup: {exc}")
        if not args.keep:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
