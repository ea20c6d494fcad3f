"""Benchmark: GET /transactions for one user with 1,000,000 transactions.

    .venv/bin/python bench/ledger.py [--rows 1000000] [--runs 200] [--keep]

Creates its own database (fiscaflow_bench_ledger), migrates it, and seeds set-based one
user with 5 accounts and ROWS transactions spread over the last 3 years (monthly
partitions created for the range; default categories; 300 merchants; tags on 10 %).
Then, for each query shape, it times the request in-process through the real app
(chalice.test.Client: token check, session check, access load, validation, JSON) and the
raw SQL of the same page (the statement the app runs, on one open connection), RUNS
times each after a warm-up, and prints p50/p99. The API response cache is off (no
REDIS_URL) so every request reaches PostgreSQL: what is measured is the miss path.
Goal (issue 4): app p99 within 2x the raw SQL's p99 and under 30 ms. Drops the database
at the end unless --keep.
"""

import argparse
import base64
import json
import os
import secrets
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = "fiscaflow_bench_ledger"
DB_URL = psycopg.conninfo.make_conninfo(ADMIN_URL, dbname=DB_NAME)

os.environ.update(
    {
        "STAGE": "bench",
        "DATABASE_URL": DB_URL,
        "REDIS_URL": "",
        "JWT_SIGNING_KEY": secrets.token_urlsafe(48),
        "FIELD_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "LOOKUP_HASH_KEY": secrets.token_urlsafe(48),
        "LOG_LEVEL": "ERROR",
        # One user hammering the API on purpose: the per-user limit would answer 429.
        "API_REQUESTS_PER_USER_PER_MINUTE": "100000000",
    }
)

SEED = """
WITH cats AS (SELECT array_agg(id ORDER BY name) AS ids FROM categories WHERE is_default AND parent_id IS NOT NULL),
accs AS (SELECT array_agg(id ORDER BY name) AS ids FROM accounts WHERE user_id = %(user_id)s)
INSERT INTO transactions (user_id, account_id, category_id, amount, description, merchant, transaction_date,
                          posted_date, status, tags, created_at, categorization_source)
SELECT %(user_id)s,
       accs.ids[1 + n %% 5],
       cats.ids[1 + (hashint(n, 1) %% array_length(cats.ids, 1))],
       CASE WHEN n %% 20 = 0 THEN (500 + hashint(n, 2) %% 3000)::numeric
            ELSE -((100 + hashint(n, 3) %% 20000)::numeric / 100) END,
       'POS ' || m.name || ' #' || (n %% 9973),
       m.name,
       d.day,
       d.day + 1,
       CASE WHEN n %% 50 = 0 THEN 'pending' WHEN n %% 97 = 0 THEN 'cancelled' ELSE 'posted' END,
       CASE WHEN n %% 10 = 0 THEN ARRAY['tag' || (n %% 7)] END,
       d.day + make_interval(secs => hashint(n, 4) %% 86400),
       'manual'
  FROM generate_series(%(first)s::int, %(last)s::int) n
  CROSS JOIN cats CROSS JOIN accs
  CROSS JOIN LATERAL (SELECT (%(today)s::date - (hashint(n, 5) %% %(days)s))::date AS day) d
  CROSS JOIN LATERAL (SELECT (ARRAY[{merchants}])[1 + hashint(n, 6) %% 300] AS name) m
"""
NEW_SESSION = """INSERT INTO user_sessions (user_id, refresh_token, expires_at)
                  VALUES (%s, %s, now() + interval '1 day') RETURNING id"""
WORDS = ["Market", "Cafe", "Fuel", "Books", "Pharmacy", "Cinema", "Bakery", "Hardware", "Grill", "Travel"]
CITIES = [
    "Lisbon",
    "Oslo",
    "Austin",
    "Kyoto",
    "Lagos",
    "Quito",
    "Perth",
    "Turin",
    "Tulsa",
    "Ghent",
    "Minsk",
    "Hanoi",
    "Cork",
    "Bergen",
    "Leeds",
    "Accra",
    "Lyon",
    "Porto",
    "Graz",
    "Basel",
    "Delft",
    "Malmo",
    "Nice",
    "Split",
    "Bruges",
    "Riga",
    "Tartu",
    "Vigo",
    "Zadar",
    "Kotor",
]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def create_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DB_NAME}")
    from chalicelib.infra.migrations import migrate

    migrate(DB_URL)


def seed(rows: int) -> dict:
    from chalicelib.auth.tokens import issue_access_token
    from chalicelib.infra.crypto import token_digest

    today = date.today()
    merchants = ", ".join(f"'{c} {w}'" for c in CITIES for w in WORDS)
    with psycopg.connect(DB_URL, autocommit=True, row_factory=dict_row) as conn:
        conn.execute(
            """CREATE OR REPLACE FUNCTION hashint(n int, salt int) RETURNS int LANGUAGE sql IMMUTABLE AS
               $$ SELECT abs(hashint4(n * 31 + salt)) $$"""
        )
        user = conn.execute(
            "INSERT INTO users (email, password_hash) VALUES ('bench@example.com', 'x') RETURNING id"
        ).fetchone()["id"]
        for i, t in enumerate(("checking", "savings", "credit_card", "checking", "other")):
            conn.execute(
                "INSERT INTO accounts (user_id, name, type, opening_balance, allow_negative)"
                " VALUES (%s, %s, %s, 0, true)",
                (user, f"Account {i}", t),
            )
        conn.execute(
            "SELECT ensure_transaction_partitions(%s, %s)",
            (today - timedelta(days=3 * 366), today + timedelta(days=92)),
        )
        chunk = 100_000
        started = time.perf_counter()
        for first in range(1, rows + 1, chunk):
            last = min(rows, first + chunk - 1)
            conn.execute(
                SEED.replace("{merchants}", merchants),
                {"user_id": user, "first": first, "last": last, "today": today, "days": 3 * 365},
            )
            done = last
            print(f"  seeded {done:,} rows ({done / (time.perf_counter() - started):,.0f} rows/s)", flush=True)
        conn.execute("VACUUM ANALYZE")
        session = conn.execute(
            NEW_SESSION,
            (user, token_digest(secrets.token_urlsafe(16))),
        ).fetchone()["id"]
        category = conn.execute("SELECT c.id FROM categories c WHERE c.name = 'Groceries' AND c.is_default").fetchone()[
            "id"
        ]
        account = conn.execute("SELECT id FROM accounts WHERE user_id = %s ORDER BY name LIMIT 1", (user,)).fetchone()[
            "id"
        ]
    token = issue_access_token(user_id=user, session_id=session)
    return {"user": user, "category": category, "account": account, "headers": {"Authorization": f"Bearer {token}"}}


def raw_page(ctx: dict, params: dict):
    """The page statements the app runs for these query parameters (query.fetch_page, the
    date windows included), as a callable on a plain connection: no token, session, access
    load, validation or JSON."""
    from chalicelib.core import paging as cursor_codec
    from chalicelib.families.access import Access
    from chalicelib.ledger.transactions.listing import _parse_cursor
    from chalicelib.ledger.transactions.models import TransactionQuery
    from chalicelib.ledger.transactions.query import Filters, fetch_page

    q = TransactionQuery.model_validate(params)
    access = Access(user_id=ctx["user"], family_roles={})
    filters = Filters(
        account_id=q.account_id,
        category_id=q.category_id,
        date_from=q.date_from,
        date_to=q.date_to,
        min_amount=q.min_amount,
        max_amount=q.max_amount,
        status=q.status,
        tag=q.tag,
        merchant=q.merchant,
        q=q.q,
        after=cursor_codec.decode(q.cursor, _parse_cursor) if q.cursor else None,
    )
    parts = access.visible_parts("t")
    return lambda conn: fetch_page(conn, parts, filters, limit=q.limit + 1, include_archived=q.include_archived)


def main() -> None:
    from bench.plans import add_prepare_threshold, prepare_after

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="use an existing seeded database")
    add_prepare_threshold(parser)
    args = parser.parse_args()
    prepare_after(args.prepare_threshold)

    if not args.reuse:
        t0 = time.perf_counter()
        create_database()
        ctx = seed(args.rows)
        print(f"seeded {args.rows:,} transactions in {time.perf_counter() - t0:.0f} s")
    else:
        from chalicelib.infra.migrations import migrate

        migrate(DB_URL)
        with psycopg.connect(DB_URL, row_factory=dict_row) as conn:
            conn.execute("DELETE FROM user_sessions")
            conn.commit()
        # A fresh session and token for the kept data.
        from chalicelib.auth.tokens import issue_access_token
        from chalicelib.infra.crypto import token_digest

        with psycopg.connect(DB_URL, autocommit=True, row_factory=dict_row) as conn:
            user = conn.execute("SELECT id FROM users WHERE email = 'bench@example.com'").fetchone()["id"]
            session = conn.execute(
                NEW_SESSION,
                (user, token_digest(secrets.token_urlsafe(16))),
            ).fetchone()["id"]
            category = conn.execute("SELECT id FROM categories WHERE name = 'Groceries' AND is_default").fetchone()[
                "id"
            ]
            account = conn.execute(
                "SELECT id FROM accounts WHERE user_id = %s ORDER BY name LIMIT 1", (user,)
            ).fetchone()["id"]
        ctx = {
            "user": user,
            "category": category,
            "account": account,
            "headers": {"Authorization": f"Bearer {issue_access_token(user_id=user, session_id=session)}"},
        }

    from chalice.test import Client

    from app import app

    today = date.today()
    shapes = {
        "first page": {},
        "date range (one month, a year ago)": {
            "from": str(today - timedelta(days=395)),
            "to": str(today - timedelta(days=365)),
        },
        "category filter (Groceries)": {"category_id": str(ctx["category"])},
        "text filter q=kyoto": {"q": "kyoto"},
        "text filter q=#4242 (rare)": {"q": "#4242"},
        "account filter": {"account_id": str(ctx["account"])},
    }
    results = []
    with (
        Client(app, stage_name="bench") as client,
        psycopg.connect(DB_URL, row_factory=dict_row, prepare_threshold=args.prepare_threshold) as raw,
    ):
        raw.execute("SET TIME ZONE 'UTC'")

        def api(params: dict) -> dict:
            path = "/transactions?" + "&".join(f"{k}={v}" for k, v in params.items()).replace("#", "%23")
            r = client.http.get(path, headers=ctx["headers"])
            assert r.status_code == 200, r.body
            return json.loads(r.body)

        # Page 50 through the cursor: walk there once, then time that page.
        params, body = {}, api({})
        for _ in range(49):
            params = {"cursor": body["next_cursor"]}
            body = api(params)
        shapes["page 50 via cursor"] = params

        for name, params in shapes.items():
            run_raw = raw_page(ctx, params)
            app_times, sql_times = [], []
            for i in range(args.runs + 10):
                t = time.perf_counter()
                api(params)
                a = time.perf_counter() - t
                t = time.perf_counter()
                run_raw(raw)
                raw.commit()
                s = time.perf_counter() - t
                if i >= 10:
                    app_times.append(a * 1000)
                    sql_times.append(s * 1000)
            row = (
                name,
                statistics.median(app_times),
                pct(app_times, 99),
                statistics.median(sql_times),
                pct(sql_times, 99),
            )
            results.append(row)
            print(
                f"{name:40s} app p50 {row[1]:6.2f} p99 {row[2]:6.2f} ms | sql p50 {row[3]:6.2f} p99 {row[4]:6.2f} ms"
                f" | ratio p99 {row[2] / row[4]:4.1f}x",
                flush=True,
            )

    print("\n| query | app p50 | app p99 | SQL p50 | SQL p99 | p99 app/SQL | goal |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, ap50, ap99, sp50, sp99 in results:
        ok = "✔" if ap99 < 30 and ap99 <= 2 * sp99 else ("✘ (<30 ms ✔)" if ap99 < 30 else "✘")
        print(f"| {name} | {ap50:.2f} ms | {ap99:.2f} ms | {sp50:.2f} ms | {sp99:.2f} ms | {ap99 / sp99:.1f}× | {ok} |")

    if not args.keep:
        from chalicelib.infra import db

        db.close_pool()
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    main()
