"""Bank sync benchmark: 50,000 transactions arriving as 100 pages of 500 through the local
Plaid-compatible server (tests/bank_sync/fake_plaid.py), reached through plaid-python as
in production; then the latency from a signed SYNC_UPDATES_AVAILABLE webhook to the new
transaction being found by GET /search/transactions.

Runs in a database and a bucket of its own, created here and dropped at the end:

    .venv/bin/python bench/bank_sync.py [--rows 50000] [--page 500] [--webhooks 5]
"""

import argparse
import os
import random
import resource
import secrets
import statistics
import sys
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.bank_sync.fake_plaid import CLIENT_ID, SECRET, FakePlaid

RUN = f"{os.getpid()}_{secrets.token_hex(3)}"
ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BENCH_DB = f"fiscaflow_bench_bank_{RUN}"
FAKE = FakePlaid()
os.environ.update(
    {
        "DATABASE_URL": psycopg.conninfo.make_conninfo(ADMIN_URL, dbname=BENCH_DB),
        "S3_BUCKET": f"fiscaflow-bench-bank-{RUN.replace('_', '-')}",
        "REDIS_KEY_PREFIX": f"bench:bank:{RUN}:",
        "LOG_LEVEL": "WARNING",
        "PLAID_CLIENT_ID": CLIENT_ID,
        "PLAID_SECRET": SECRET,
        "PLAID_BASE_URL": FAKE.url,
    }
)
os.environ.pop("ELASTICSEARCH_URL", None)
MERCHANTS = ["Starbucks", "Whole Foods", "Shell", "Amazon", "Uber", "Netflix", "Trader Joe's", "CVS", "Chipotle"]
CATEGORIES = [
    ("FOOD_AND_DRINK", "FOOD_AND_DRINK_COFFEE", "VERY_HIGH"), ("FOOD_AND_DRINK", "FOOD_AND_DRINK_GROCERIES", "HIGH"),
    ("TRANSPORTATION", "TRANSPORTATION_GAS", "HIGH"), ("GENERAL_MERCHANDISE", "GENERAL_MERCHANDISE_ONLINE_MARKETPLACES",
    "MEDIUM"), None,
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--page", type=int, default=500)
    parser.add_argument("--webhooks", type=int, default=5)
    parser.add_argument("--prefetch", action="store_true", help="BANK_SYNC_PREFETCH=true (next page asked for ahead)")
    parser.add_argument("--profile", action="store_true", help="time each SQL statement of the sync (client side)")
    parser.add_argument("--cprofile", metavar="FILE", help="write a cProfile of the first sync to FILE")
    parser.add_argument("--keep-db", action="store_true", help="leave the database afterwards (drop it yourself)")
    parser.add_argument("--explain-page", type=int, default=0, help="auto_explain (ANALYZE, BUFFERS) of page N")
    args = parser.parse_args()
    os.environ["BANK_SYNC_PAGE_SIZE"] = str(args.page)
    os.environ["BANK_SYNC_PREFETCH"] = "true" if args.prefetch else "false"

    from chalicelib.infra import db, storage
    from chalicelib.infra.migrations import migrate

    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(BENCH_DB)))
    FAKE.start()
    try:
        migrate(os.environ["DATABASE_URL"])
        storage.ensure_bucket()
        _run(args)
    finally:
        if args.keep_db:
            print(f"database kept: {BENCH_DB}")
        FAKE.stop()
        db.close_pool()
        try:
            storage.delete_prefix("")
            storage.client().remove_bucket(storage.bucket())
        except Exception as exc:
            print(f"bucket cleanup failed: {exc}")
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            if not args.keep_db:
                admin.execute(
                    psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(BENCH_DB))
                )


def _user(conn) -> tuple:
    from datetime import UTC, datetime

    from chalicelib.auth.tokens import issue_access_token

    user_id = conn.execute(
        "INSERT INTO users (email, password_hash) VALUES ('bench@example.com', 'x') RETURNING id"
    ).fetchone()[0]
    session_id = conn.execute(
        "INSERT INTO user_sessions (user_id, refresh_token, expires_at) VALUES (%s, %s, %s) RETURNING id",
        (user_id, secrets.token_hex(32), datetime.now(UTC) + timedelta(days=1)),
    ).fetchone()[0]
    return user_id, session_id, issue_access_token(user_id=user_id, session_id=session_id)


def _run(args) -> None:
    import json

    from chalice.test import Client

    import app as app_module
    from chalicelib.bank_sync.jobs import handle_sync_object
    from chalicelib.bank_sync.sync import sync_connection

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        _, _, token = _user(conn)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    public_token = FAKE.create_item(accounts=[{"name": "Bench", "type": "depository", "subtype": "checking",
                                               "base": "9000000.00"}])  # fmt: skip
    item = FAKE.item_of(public_token)
    rng = random.Random(19)
    started = date.today() - timedelta(days=700)
    for n in range(args.rows):
        FAKE.add(item, amount=f"{rng.randrange(-20000, 25000) or 1}.{rng.randrange(100):02d}",
                 name=f"{rng.choice(MERCHANTS).upper()} {n}", merchant=rng.choice(MERCHANTS),
                 day=started + timedelta(days=rng.randrange(700)), category=rng.choice(CATEGORIES),
                 location={"city": "Seattle", "lat": 47.6 + rng.random() / 10, "lon": -122.3})  # fmt: skip
    with Client(app_module.app, stage_name="bench") as client:
        created = client.http.post("/bank-connections", body=json.dumps({"public_token": public_token}),
                                   headers=headers)  # fmt: skip
        assert created.status_code == 201, created.body
        connection_id = created.json_body["id"]
        account_id = created.json_body["accounts"][0]["id"]
        from uuid import UUID

        phases = _time_phases()
        statements = _time_statements() if args.profile else None
        if args.explain_page:
            _explain_page(args.explain_page)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu_before = _cpu_seconds()
        profiler = None
        if args.cprofile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        t0 = time.perf_counter()
        report = sync_connection(connection_id=UUID(connection_id), reason="bench")
        seconds = time.perf_counter() - t0
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.cprofile)
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu_after = _cpu_seconds()
        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
            stored = conn.execute("SELECT count(*) FROM transactions").fetchone()[0]
            balance = conn.execute("SELECT balance FROM accounts WHERE id = %s", (account_id,)).fetchone()[0]
        assert report.status == "completed" and stored == args.rows, (report, stored)
        assert balance == FAKE.current_balance(item), (balance, FAKE.current_balance(item))
        print(f"sync: {args.rows:,} transactions in {report.pages} pages of {args.page}: {seconds:.2f} s, "
              f"{args.rows / seconds:,.0f} rows/s (fetching pages {phases['fetch']:.2f} s incl. the fake server's "
              f"{FAKE.serve_seconds:.2f} s, writing pages {phases['write']:.2f} s); max RSS of the process "
              f"(fake server and its {args.rows:,} transactions included) {rss_before / 1024:.0f} -> "
              f"{rss_after / 1024:.0f} MiB; balance {balance} = Plaid's")  # fmt: skip
        client_cpu = cpu_after[0] - cpu_before[0]
        server_cpu = sum(v - cpu_before[1].get(pid, 0.0) for pid, v in cpu_after[1].items())
        print(f"cpu: this process {client_cpu:.2f} s (the fake server's threads included), the database's "
              f"backends {server_cpu:.2f} s; {args.rows / (client_cpu + server_cpu):,.0f} rows per CPU second "
              f"(load average {os.getloadavg()[0]:.1f})")  # fmt: skip
        if statements is not None:
            _print_statements(statements, pages=report.pages, seconds=seconds)
        tracemalloc.start()
        FAKE.add(item, amount="1.00", name="memory probe")
        conn_probe = UUID(connection_id)
        for n in range(args.page * 4):
            FAKE.add(item, amount=f"{n % 97 + 1}.00", name=f"MEMORY PROBE {n}", merchant="Probe")
        sync_connection(connection_id=conn_probe, reason="bench")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"Python heap peak while syncing {args.page * 4 + 1:,} more rows (tracemalloc, client side and "
              f"fake server): {peak / 2**20:.1f} MiB")  # fmt: skip

        latencies = []
        for n in range(args.webhooks):
            word = f"zebrafinch{n}x{secrets.token_hex(2)}"
            FAKE.add(item, amount="3.21", name=f"{word} cafe", merchant="Cafe")
            body, wh_headers = FAKE.webhook(item, "TRANSACTIONS", "SYNC_UPDATES_AVAILABLE", nonce=n)
            t0 = time.perf_counter()
            keys_before = set(_job_keys())
            assert client.http.post("/webhooks/plaid", body=body, headers=wh_headers).status_code == 200
            for key in set(_job_keys()) - keys_before:
                handle_sync_object(key=key)  # what the S3 trigger runs, in the background
            found = client.http.get(f"/search/transactions?q={word}", headers=headers).json_body
            latencies.append(time.perf_counter() - t0)
            assert found["total"] == 1, found
        print(f"webhook -> searchable (postgres engine; S3 delivery not included): median "
              f"{statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
              f"over {len(latencies)} webhooks")  # fmt: skip


def _cpu_seconds() -> tuple[float, dict[int, float]]:
    """CPU time of this process and of each client backend of the bench database (from
    /proc: the server runs on this machine). Far steadier than wall time on a loaded machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    tick = os.sysconf("SC_CLK_TCK")
    backends = {}
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        pids = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'", (BENCH_DB,)
        ).fetchall()
    for (pid,) in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        backends[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return usage.ru_utime + usage.ru_stime, backends


def _time_phases() -> dict[str, float]:
    """Wall time spent fetching pages (client + fake server) and writing them (our database work)."""
    from chalicelib.bank_sync import sync
    from chalicelib.bank_sync.plaid_provider import PlaidProvider

    phases = {"fetch": 0.0, "write": 0.0}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[name] += time.perf_counter() - t0

        return wrapper

    PlaidProvider.sync_page = timed("fetch", PlaidProvider.sync_page)
    sync._apply_page = timed("write", sync._apply_page)
    return phases


def _time_statements() -> dict[str, list]:
    """Wall time per SQL statement (round trip included), by its first words; installed
    for the first sync only (the statements of one page are what it is made of)."""
    statements: dict[str, list] = {}
    original = psycopg.Connection.execute

    def execute(self, query, params=None, **kwargs):
        text = query.as_string(self) if isinstance(query, psycopg.sql.Composable) else str(query)
        label = " ".join(text.split())[:70]
        t0 = time.perf_counter()
        try:
            return original(self, query, params, **kwargs)
        finally:
            entry = statements.setdefault(label, [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - t0

    psycopg.Connection.execute = execute
    statements["__restore__"] = [original]
    return statements


def _print_statements(statements: dict[str, list], *, pages: int, seconds: float) -> None:
    psycopg.Connection.execute = statements.pop("__restore__")[0]
    total = sum(s for _, s in statements.values())
    print(f"SQL statements ({sum(n for n, _ in statements.values()):,} executed, {total:.2f} s of {seconds:.2f} s):")
    for label, (count, spent) in sorted(statements.items(), key=lambda kv: -kv[1][1])[:25]:
        print(f"  {spent:7.2f} s {count:6d}x {spent / max(pages, 1) * 1000:7.1f} ms/page  {label}")


def _explain_page(number: int) -> None:
    """auto_explain, sent to this client as notices, for the statements of one page's transaction."""
    from chalicelib.bank_sync import page_repo

    original, seen = page_repo.lock_accounts, [0]

    def show(diag):
        if "duration" in (diag.message_primary or ""):
            print(diag.message_primary)

    def lock_accounts(conn, account_ids):
        seen[0] += 1
        if seen[0] == number:
            conn.add_notice_handler(show)
            conn.execute("LOAD 'auto_explain'")
            for name, value in (
                ("log_min_duration", "0"),
                ("log_analyze", "on"),
                ("log_buffers", "on"),
                ("log_triggers", "on"),
                ("log_nested_statements", "off"),
                ("log_timing", "on"),
            ):
                conn.execute(f"SET LOCAL auto_explain.{name} = {value}")
            conn.execute("SET LOCAL client_min_messages = log")
        elif seen[0] == number + 1:
            conn.remove_notice_handler(show)
        return original(conn, account_ids)

    page_repo.lock_accounts = lock_accounts


def _job_keys():
    from chalicelib.infra import storage

    return storage.list_keys("bank-sync/")


if __name__ == "__main__":
    main()
