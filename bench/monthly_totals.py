"""What the analytics roll-up's statement trigger (sql/1241) costs the import write path.

    .venv/bin/python bench/monthly_totals.py [--rows 100000] [--rounds 3]

Creates its own database (fiscaflow_bench_totals_<pid>), migrates it, gives one account
--rows transactions, then inserts another --rows into that account in one statement the
way an import does (INSERT … SELECT from a staged table; every other trigger fires),
with the roll-up's insert trigger enabled and disabled, alternating, each round rolled
back. Prints the load average beside the figures. Drops the database at the end.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = f"fiscaflow_bench_totals_{os.getpid()}"
DB_URL = psycopg.conninfo.make_conninfo(ADMIN_URL, dbname=DB_NAME)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

_ROWS = """SELECT %(user)s::uuid AS user_id, %(account)s::uuid AS account_id,
                  (%(cats)s::uuid[])[1 + (g %% %(ncats)s)] AS category_id,
                  -round((random() * 200)::numeric, 2) - 0.01 AS amount,
                  'purchase ' || (g + %(offset)s)::text AS description,
                  CURRENT_DATE - (g %% 1000) AS transaction_date
             FROM generate_series(1, %(n)s) AS g"""


def _insert(conn, source: str) -> float:
    started = time.perf_counter()
    conn.execute(
        f"""INSERT INTO transactions (user_id, account_id, category_id, amount, description, transaction_date)
            SELECT user_id, account_id, category_id, amount, description, transaction_date FROM {source}"""
    )
    return time.perf_counter() - started


def main() -> int:
    from chalicelib.infra.migrations import migrate

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(DB_NAME)))
    try:
        migrate(DB_URL)
        with psycopg.connect(DB_URL, row_factory=dict_row) as conn:
            conn.execute("SELECT ensure_transaction_partitions((CURRENT_DATE - 1000), CURRENT_DATE)")
            user = conn.execute("INSERT INTO users (email, password_hash) VALUES ('b@example.com', 'x') RETURNING id")
            user = user.fetchone()["id"]
            account = conn.execute(
                "INSERT INTO accounts (user_id, name, type) VALUES (%s, 'A', 'checking') RETURNING id", (user,)
            ).fetchone()["id"]
            cats = [r["id"] for r in conn.execute("SELECT id FROM categories WHERE parent_id IS NOT NULL")]
            params = {"user": user, "account": account, "cats": cats, "ncats": len(cats), "n": args.rows}
            conn.execute(f"CREATE TABLE staged AS {_ROWS}", {**params, "offset": 0})
            _insert(conn, "staged")  # the account already holds --rows transactions
            conn.execute("DROP TABLE staged")
            conn.execute(f"CREATE TABLE staged AS {_ROWS}", {**params, "offset": args.rows})
            conn.commit()
        with psycopg.connect(DB_URL, autocommit=True) as c:
            c.execute("VACUUM ANALYZE")
        samples: dict[bool, list[float]] = {True: [], False: []}
        with psycopg.connect(DB_URL, row_factory=dict_row) as conn:
            # The trigger function's own time, whatever the other triggers and the load do.
            conn.execute("SET track_functions = 'pl'")
            conn.commit()
            print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
            for i in range(args.rounds):
                for enabled in (True, False) if i % 2 == 0 else (False, True):
                    if not enabled:
                        conn.execute("ALTER TABLE transactions DISABLE TRIGGER transactions_monthly_totals_insert")
                    samples[enabled].append(_insert(conn, "staged"))
                    conn.rollback()
                    print(f"  round {i + 1}, trigger {'on' if enabled else 'off'}: {samples[enabled][-1]:.2f}s")
            print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            conn.execute("SELECT pg_stat_force_next_flush()")
            conn.commit()
        time.sleep(1.5)
        with psycopg.connect(DB_URL, row_factory=dict_row) as conn:
            own = conn.execute(
                """SELECT calls, total_time FROM pg_stat_user_functions
                    WHERE funcname = 'transaction_monthly_totals_on_insert'"""
            ).fetchone()
        if own and own["calls"]:
            print(
                f"the trigger function itself: {own['total_time'] / own['calls']:.0f} ms a call ({own['calls']} calls)"
            )
        on, off = statistics.median(samples[True]), statistics.median(samples[False])
        print(
            f"\n{args.rows:,} rows into an account holding {args.rows:,}: trigger on {on:.2f}s "
            f"({args.rows / on:,.0f} rows/s), off {off:.2f}s ({args.rows / off:,.0f} rows/s); "
            f"the roll-up costs {on - off:+.2f}s per {args.rows:,} rows (median of {args.rounds})"
        )
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(DB_NAME))
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
