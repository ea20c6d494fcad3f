"""Benchmark: what the indexes of `transactions` cost, before and after sql/1101 (issue 17).

    .venv/bin/python bench/indexes.py [--rows 200000] [--copy-rows 50000] [--plans 30] [--keep]

One run measures both states back to back on the same data. It creates its own database
(fiscaflow_bench_indexes_<pid>), migrates it without sql/1101_index_audit.sql, seeds one
user with 5 accounts and ROWS transactions over 3 years (41 monthly partitions; the same
generator as bench/ledger.py) and runs ANALYZE. Then, in each state:

- indexes per monthly partition, and the bytes of every index of every partition per
  1,000,000 rows (measured on ROWS and scaled: say so when ROWS is not 1M);
- planning time of the rare-word filter (`GET /transactions?q=%234242`, the unbounded
  last step of query.fetch_page over every partition): EXPLAIN (ANALYZE, FORMAT JSON)'s
  Planning Time, once on a fresh connection and PLANS times on a warm one;
- `COPY` of COPY_ROWS rows into `transactions` (the user's accounts; every trigger of
  the table fires), rows/s; the copied rows are deleted and the table vacuumed
  afterwards so both states copy into the same table.

Between the two it applies sql/1101 (timed). Drops the database at the end unless --keep.
"""

import argparse
import io
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ledger import CITIES, SEED, WORDS  # noqa: E402  (the ledger bench's generator)

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = f"fiscaflow_bench_indexes_{os.getpid()}"
DB_URL = psycopg.conninfo.make_conninfo(ADMIN_URL, dbname=DB_NAME)
AFTER_NAME = f"{DB_NAME}_after"
AFTER_URL = psycopg.conninfo.make_conninfo(ADMIN_URL, dbname=AFTER_NAME)
AUDIT_MIGRATION = "1101_index_audit.sql"
COPY_COLUMNS = (
    "user_id, account_id, category_id, amount, description, merchant, transaction_date, posted_date, status, tags,"
    " created_at, categorization_source"
)


def migrate_without_audit() -> None:
    from chalicelib.infra.migrations import SQL_DIR, migrate

    with tempfile.TemporaryDirectory() as tmp:
        for path in SQL_DIR.glob("*.sql"):
            if path.name != AUDIT_MIGRATION:
                shutil.copy(path, tmp)
        migrate(DB_URL, sql_dir=Path(tmp))


def seed(conn: psycopg.Connection, rows: int) -> dict:
    today = date.today()
    merchants = ", ".join(f"'{c} {w}'" for c in CITIES for w in WORDS)
    conn.execute(
        """CREATE OR REPLACE FUNCTION hashint(n int, salt int) RETURNS int LANGUAGE sql IMMUTABLE AS
           $$ SELECT abs(hashint4(n * 31 + salt)) $$"""
    )
    user = conn.execute(
        "INSERT INTO users (email, password_hash) VALUES ('bench@example.com', 'x') RETURNING id"
    ).fetchone()["id"]
    for i, kind in enumerate(("checking", "savings", "credit_card", "checking", "other")):
        conn.execute(
            "INSERT INTO accounts (user_id, name, type, opening_balance, allow_negative) VALUES (%s, %s, %s, 0, true)",
            (user, f"Account {i}", kind),
        )
    conn.execute(
        "SELECT ensure_transaction_partitions(%s, %s)", (today - timedelta(days=3 * 366), today + timedelta(days=92))
    )
    started = time.perf_counter()
    chunk = 100_000
    for first in range(1, rows + 1, chunk):
        last = min(rows, first + chunk - 1)
        conn.execute(
            SEED.replace("{merchants}", merchants),
            {"user_id": user, "first": first, "last": last, "today": today, "days": 3 * 365},
        )
        print(f"  seeded {last:,} rows ({last / (time.perf_counter() - started):,.0f} rows/s)", flush=True)
    conn.execute("VACUUM ANALYZE")
    return {"user": user, "today": today, "merchants": merchants}


def copy_payload(conn: psycopg.Connection, ctx: dict, rows: int) -> bytes:
    """COPY text of `rows` new transactions: the seed's generator with numbers past the seeded
    ones, marked categorization_source 'ml' (every seeded row is 'manual') to delete them after."""
    query = re.sub(r"INSERT INTO transactions \(.*?\)\s*SELECT", "SELECT", SEED, flags=re.S)
    query = query.replace("{merchants}", ctx["merchants"]).replace("'manual'", "'ml'")
    params = {
        "user_id": ctx["user"],
        "first": 10_000_001,
        "last": 10_000_000 + rows,
        "today": ctx["today"],
        "days": 3 * 365,
    }
    text = psycopg.ClientCursor(conn).mogrify(query, params)
    buf = io.BytesIO()
    with conn.cursor().copy(f"COPY ({text}) TO STDOUT") as copy:
        for data in copy:
            buf.write(data)
    return buf.getvalue()


def index_figures(conn: psycopg.Connection) -> dict:
    one = conn.execute(
        """SELECT count(*) AS n FROM pg_index
            WHERE indrelid = transaction_partition_name(date_trunc('month', now())::date)::regclass"""
    ).fetchone()["n"]
    sizes = conn.execute(
        """SELECT count(DISTINCT p.inhrelid) AS partitions, sum(pg_relation_size(i.indexrelid)) AS index_bytes,
                  (SELECT sum(pg_relation_size(q.inhrelid)) FROM pg_inherits q
                    WHERE q.inhparent = 'transactions'::regclass) AS heap_bytes
             FROM pg_inherits p JOIN pg_index i ON i.indrelid = p.inhrelid
            WHERE p.inhparent = 'transactions'::regclass"""
    ).fetchone()
    rows = conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"]
    return {
        "indexes_per_partition": one,
        "partitions": sizes["partitions"],
        "rows": rows,
        "index_bytes": int(sizes["index_bytes"]),
        "index_bytes_per_1m": int(sizes["index_bytes"]) * 1_000_000 // rows,
        "heap_bytes_per_1m": int(sizes["heap_bytes"]) * 1_000_000 // rows,
    }


def rare_word_query(user):
    from chalicelib.families.access import Access
    from chalicelib.ledger.transactions.query import Filters, list_query

    # fetch_page's last window: no lower date bound, so every partition is planned.
    return list_query(
        Access(user_id=user, family_roles={}).visible_parts("t"), Filters(q="#4242"), limit=51, include_archived=False
    )


def explain_rare_word(conn: psycopg.Connection, user) -> tuple[float, float]:
    """(Planning Time, Execution Time) in ms of one EXPLAIN ANALYZE of the rare-word query."""
    query, params = rare_word_query(user)
    plan = conn.execute(psycopg.sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) ") + query, params).fetchone()[0][0]
    return plan["Planning Time"], plan["Execution Time"]


def copy_rate(url: str, payload: bytes, rows: int) -> float:
    """rows/s of one COPY into `transactions`; the copied rows are deleted and vacuumed away."""
    with psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        with conn.transaction(), conn.cursor().copy(f"COPY transactions ({COPY_COLUMNS}) FROM STDIN") as copy:
            copy.write(payload)
        seconds = time.perf_counter() - started
        conn.execute("DELETE FROM transactions WHERE categorization_source = 'ml'")
        conn.execute("VACUUM transactions")
    return rows / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--copy-rows", type=int, default=20_000)
    parser.add_argument("--copy-rounds", type=int, default=3)
    parser.add_argument("--plans", type=int, default=30)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    from chalicelib.infra.migrations import migrate

    urls = {"before": DB_URL, "after": AFTER_URL}
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {DB_NAME}")
    try:
        migrate_without_audit()
        with psycopg.connect(DB_URL, autocommit=True, row_factory=dict_row, prepare_threshold=None) as conn:
            print(f"seeding {args.rows:,} rows into {DB_NAME}", flush=True)
            ctx = seed(conn, args.rows)
            payload = copy_payload(conn, ctx, args.copy_rows)
        # The same data twice: `after` is a file copy of `before` with sql/1101 applied, so the
        # two states are measured alternately in one run instead of one after the other.
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {AFTER_NAME} TEMPLATE {DB_NAME}")
        started = time.perf_counter()
        applied = migrate(AFTER_URL)
        print(f"  applied {applied} in {time.perf_counter() - started:.2f} s", flush=True)
        results = {}
        for state, url in urls.items():
            with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
                conn.execute("ANALYZE transactions")
                results[state] = index_figures(conn)
                results[state] |= {"fresh": [], "warm": [], "exec": [], "copy": []}
        loads = [os.getloadavg()[0]]
        for _ in range(5):
            for state, url in urls.items():
                with psycopg.connect(url, prepare_threshold=None) as fresh:
                    results[state]["fresh"].append(explain_rare_word(fresh, ctx["user"])[0])
        warm = {state: psycopg.connect(url, prepare_threshold=None) for state, url in urls.items()}
        try:
            for state in urls:
                explain_rare_word(warm[state], ctx["user"])
            for _ in range(args.plans):
                for state in urls:
                    planning, execution = explain_rare_word(warm[state], ctx["user"])
                    results[state]["warm"].append(planning)
                    results[state]["exec"].append(execution)
        finally:
            for conn in warm.values():
                conn.close()
        loads.append(os.getloadavg()[0])
        for _ in range(args.copy_rounds):
            for state, url in urls.items():
                results[state]["copy"].append(copy_rate(url, payload, args.copy_rows))
        loads.append(os.getloadavg()[0])
    finally:
        if not args.keep:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {AFTER_NAME} WITH (FORCE)")
                admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    report(results, args, loads)


def report(results: dict, args, loads: list[float]) -> None:
    before, after = results["before"], results["after"]
    scale = "" if before["rows"] == 1_000_000 else f" (measured on {before['rows']:,} rows, scaled)"
    print(f"\nload average (1 min) at start / after planning / after COPY: {' / '.join(f'{x:.1f}' for x in loads)}")
    print("| what | before | after |")
    print("| --- | --- | --- |")

    def row(label: str, b: str, a: str) -> None:
        print(f"| {label} | {b} | {a} |")

    row("indexes per monthly partition", str(before["indexes_per_partition"]), str(after["indexes_per_partition"]))
    row("partitions of `transactions` (incl. default)", str(before["partitions"]), str(after["partitions"]))
    mib = 2**20
    row(
        f"index bytes per 1M rows{scale}",
        f"{before['index_bytes_per_1m'] / mib:,.0f} MiB",
        f"{after['index_bytes_per_1m'] / mib:,.0f} MiB",
    )
    row(
        "table (heap) bytes per 1M rows",
        f"{before['heap_bytes_per_1m'] / mib:,.0f} MiB",
        f"{after['heap_bytes_per_1m'] / mib:,.0f} MiB",
    )
    med = statistics.median
    row(
        f"`COPY` {args.copy_rows:,} rows into `transactions`, median of {args.copy_rounds}",
        f"{med(before['copy']):,.0f} rows/s",
        f"{med(after['copy']):,.0f} rows/s",
    )
    row(
        "rare-word query planning, fresh connection, median of 5",
        f"{med(before['fresh']):.1f} ms",
        f"{med(after['fresh']):.1f} ms",
    )
    row(
        f"rare-word query planning, warm connection, median of {args.plans}",
        f"{med(before['warm']):.1f} ms",
        f"{med(after['warm']):.1f} ms",
    )
    row(
        f"rare-word query planning, warm connection, max of {args.plans}",
        f"{max(before['warm']):.1f} ms",
        f"{max(after['warm']):.1f} ms",
    )
    row("rare-word query execution, warm, median", f"{med(before['exec']):.1f} ms", f"{med(after['exec']):.1f} ms")
    print(f"raw: {results}")


if __name__ == "__main__":
    main()
