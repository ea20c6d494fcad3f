"""Benchmark: 100,000 transactions to CSV and to XLSX through the real export build.

    .venv/bin/python bench/exports.py [--rows 100000]

Creates its own database (fiscaflow_bench_exports_<pid>) and bucket, seeds one user's
transactions over the last twelve months (realistic mix: categories from the default
tree, merchants, 90 % posted dates, some tags, notes and external ids), then runs
chalicelib.exports.builder.build_export for each format in a fresh child process so
that its peak RSS is the build's own. Drops the database and bucket at the end.
Goals (issue 10): CSV >= 50,000 rows/s, XLSX >= 10,000 rows/s, both under 256 MB peak.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
GOALS = {"csv": 50_000, "xlsx": 10_000}
PEAK_LIMIT_MB = 256

SEED = """
WITH cats AS (SELECT array_agg(id ORDER BY name) AS ids FROM categories WHERE is_default),
     merchants AS (SELECT ARRAY['FreshMart', 'ACME Corp', 'City Transit', 'Bistro 21', 'Cinema Palace',
                                'PowerGrid Energy', 'Corner Pharmacy', 'Online Books', 'Fuel & Go', 'Café Ünïcode',
                                '=Suspicious', 'Hardware Hub'] AS names)
INSERT INTO transactions (user_id, account_id, category_id, amount, currency, description, merchant,
                          transaction_date, posted_date, status, tags, notes, external_id)
SELECT %(user)s, CASE WHEN n %% 3 = 0 THEN %(card)s ELSE %(checking)s END,
       CASE WHEN n %% 20 = 0 THEN NULL ELSE cats.ids[1 + (n * 7) %% array_length(cats.ids, 1)] END,
       CASE WHEN n %% 25 = 0 THEN round((500 + random() * 3000)::numeric, 2)
            ELSE -round((1 + random() * 250)::numeric, 2) END,
       'USD',
       'Card payment ' || n || ' at store #' || (n %% 977),
       CASE WHEN n %% 10 = 0 THEN NULL ELSE merchants.names[1 + n %% 12] END,
       current_date - (n %% 365),
       CASE WHEN n %% 10 = 0 THEN NULL ELSE current_date - (n %% 365) + 1 END,
       CASE WHEN n %% 50 = 0 THEN 'cancelled' WHEN n %% 17 = 0 THEN 'pending' ELSE 'posted' END,
       CASE WHEN n %% 5 = 0 THEN ARRAY['household', 'q' || (n %% 4 + 1)] END,
       CASE WHEN n %% 10 = 0 THEN 'Receipt kept; split with partner' END,
       CASE WHEN n %% 2 = 0 THEN 'BANK-' || lpad(n::text, 10, '0') END
  FROM generate_series(1, %(rows)s) AS n, cats, merchants
"""


def _child(fmt: str, user_id: str, job_id: str) -> None:
    from uuid import UUID

    from chalicelib.exports import builder
    from chalicelib.exports.repo import get_job
    from chalicelib.infra import db

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    outcome = builder.build_export(user_id=UUID(user_id), job_id=UUID(job_id))
    seconds = time.perf_counter() - started
    with db.transaction() as conn:
        job = get_job(conn, job_id=UUID(job_id), user_id=UUID(user_id))
    print(
        json.dumps(
            {
                "format": fmt,
                "outcome": outcome,
                "rows": job["row_count"],
                "bytes": job["size_bytes"],
                "seconds": round(seconds, 2),
                "rows_per_s": round(job["row_count"] / seconds),
                "rss_before_mb": round(baseline / 1024, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        )
    )


def _setup(rows: int, env: dict) -> tuple[str, dict[str, str]]:
    from chalicelib.infra import storage
    from chalicelib.infra.migrations import migrate

    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(env["BENCH_DB"])))
    migrate(env["DATABASE_URL"])
    storage.ensure_bucket()
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        user = conn.execute(
            "INSERT INTO users (email, password_hash, first_name) VALUES ('bench@example.com', 'x', 'Bench') "
            "RETURNING id"
        ).fetchone()[0]
        checking, card = (
            conn.execute(
                "INSERT INTO accounts (user_id, name, type) VALUES (%s, %s, %s) RETURNING id", (user, name, kind)
            ).fetchone()[0]
            for name, kind in (("Main Checking", "checking"), ("Visa", "credit_card"))
        )
        started = time.perf_counter()
        conn.execute(SEED, {"user": user, "checking": checking, "card": card, "rows": rows})
        conn.execute("ANALYZE transactions")
        print(f"seeded {rows:,} transactions in {time.perf_counter() - started:.1f}s", flush=True)
        jobs = {
            fmt: str(
                conn.execute(
                    """INSERT INTO export_jobs (user_id, format, date_from, date_to)
                       VALUES (%s, %s, current_date - 400, current_date) RETURNING id""",
                    (user, fmt),
                ).fetchone()[0]
            )
            for fmt in GOALS
        }
    return str(user), jobs


def _teardown(env: dict) -> None:
    from chalicelib.infra import db, storage

    db.close_pool()
    try:
        storage.delete_prefix("")
        storage.client().remove_bucket(storage.bucket())
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    psycopg.sql.Identifier(env["BENCH_DB"])
                )
            )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--child", nargs=3, metavar=("FORMAT", "USER", "JOB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return 0

    name = f"fiscaflow_bench_exports_{os.getpid()}"
    env = {
        **os.environ,
        "BENCH_DB": name,
        "DATABASE_URL": psycopg.conninfo.make_conninfo(ADMIN_URL, dbname=name),
        "S3_BUCKET": f"fiscaflow-bench-exports-{os.getpid()}",
        "LOG_LEVEL": "WARNING",
        "REDIS_KEY_PREFIX": f"bench:{os.getpid()}:",
    }
    os.environ.update(env)
    user, jobs = _setup(args.rows, env)
    results = []
    try:
        for fmt, job in jobs.items():
            out = subprocess.run(
                [sys.executable, __file__, "--child", fmt, user, job], env=env, check=True, capture_output=True,
                text=True,
            )  # fmt: skip
            result = json.loads(out.stdout.strip().splitlines()[-1])
            results.append(result)
            goal = GOALS[fmt]
            verdict = "ok" if result["rows_per_s"] >= goal and result["peak_rss_mb"] < PEAK_LIMIT_MB else "BELOW GOAL"
            print(
                f"{fmt:5} {result['rows']:,} rows  {result['bytes'] / 1e6:.1f} MB  {result['seconds']:.2f}s  "
                f"{result['rows_per_s']:,} rows/s (goal {goal:,})  peak RSS {result['peak_rss_mb']} MB "
                f"(process before the build {result['rss_before_mb']} MB)  {verdict}",
                flush=True,
            )
    finally:
        _teardown(env)
    return 0 if all(r["outcome"] == "completed" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
