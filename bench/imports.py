"""Statement import benchmark: a generated 100,000-row CSV through the real S3 handler
(parse, detect, dedupe against an account already holding 100,000 rows, categorize,
insert, balances) next to a raw COPY of the same rows into transactions.

Runs in a database and a bucket of its own, created here and dropped at the end:

    .venv/bin/python bench/imports.py [--rows 100000] [--existing 100000] [--code DIR]

`--code DIR` imports another checkout's code (its chalicelib, app and sql/) with this
script, so that two trees run the very same bench; bench/imports_compare.sh alternates
between two trees that way.
"""

import argparse
import io
import os
import random
import resource
import secrets
import sys
import time
import tracemalloc
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg


def _code_root() -> str:
    if "--code" in sys.argv:
        return str(Path(sys.argv[sys.argv.index("--code") + 1]).resolve())
    return str(Path(__file__).resolve().parents[1])


sys.path.insert(0, _code_root())

RUN = f"{os.getpid()}_{secrets.token_hex(3)}"
ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BENCH_DB = f"fiscaflow_bench_imports_{RUN}"
os.environ.update(
    {
        "DATABASE_URL": psycopg.conninfo.make_conninfo(ADMIN_URL, dbname=BENCH_DB),
        "S3_BUCKET": f"fiscaflow-bench-imports-{RUN.replace('_', '-')}",
        "REDIS_KEY_PREFIX": f"bench:imports:{RUN}:",
        "LOG_LEVEL": "WARNING",
    }
)

MERCHANTS = [
    "STARBUCKS STORE {n} SEATTLE WA", "WHOLEFDS MKT {n}", "SHELL OIL {n} HOUSTON TX", "AMAZON MKTPLACE PMTS {n}",
    "UBER TRIP HELP.UBER.COM {n}", "NETFLIX.COM", "TRADER JOE S #{n}", "CORNER BAKERY {n}", "CITY PARKING LOT {n}",
    "ACME CORP PAYROLL {n}", "LOCAL HARDWARE {n}", "CVS/PHARMACY #{n}", "CHIPOTLE {n}", "ZELLE TO FRIEND {n}",
]  # fmt: skip


def _rows(count: int, *, seed: int, start: date, days: int):
    rng = random.Random(seed)
    for _ in range(count):
        day = start + timedelta(days=rng.randrange(days))
        merchant = rng.choice(MERCHANTS).format(n=rng.randrange(1000, 9999))
        cents = rng.randrange(100, 25000)
        amount = Decimal(cents) / 100 if "PAYROLL" in merchant else -Decimal(cents) / 100
        yield day, merchant, amount


def _csv(rows) -> bytes:
    out = io.StringIO()
    out.write("Date,Description,Amount\n")
    for day, merchant, amount in rows:
        out.write(f"{day:%m/%d/%Y},{merchant},{amount}\n")
    return out.getvalue().encode()


def _copy_text(rows, *, user_id, account_id) -> bytes:
    out = io.StringIO()
    for day, merchant, amount in rows:
        out.write(f"{user_id}\t{account_id}\t{amount}\t{merchant}\t{day.isoformat()}\tposted\n")
    return out.getvalue().encode()


def _copy(conn, data: bytes) -> None:
    with conn.cursor().copy(
        "COPY transactions (user_id, account_id, amount, description, transaction_date, status) FROM STDIN"
    ) as copy:
        for i in range(0, len(data), 1 << 20):
            copy.write(data[i : i + (1 << 20)])


def _db_cpu() -> dict[int, float]:
    """CPU seconds so far of each server process connected to the bench database (a
    local server: read from /proc), so that an import's database work is measured in
    CPU time, which a loaded machine stretches much less than wall time."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        pids = [
            r[0]
            for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = %s",
                (BENCH_DB, "client backend"),
            )
        ]
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, PermissionError):
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


def _cpu_since(before: dict[int, float]) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in _db_cpu().items())


def _time_phases() -> dict[str, float]:
    """Wrap the import's steps with timers (the real functions run; only time is noted)."""
    from chalicelib.imports import processing, repo

    phases: dict[str, float] = {}

    def timed(module, name, label):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                phases[label] = phases.get(label, 0.0) + time.perf_counter() - started

        setattr(module, name, wrapper)

    timed(processing, "_parse_into", "download+detect+parse+spool")
    timed(repo, "stage_rows", "COPY to staging")
    timed(repo, "mark_duplicates", "dedupe")
    timed(repo, "insert_transactions", "categorize + INSERT..SELECT (+triggers; + outbox after this change)")
    timed(processing, "record_changes", "record_changes (outbox)")
    return phases


def _explain_into(path: str) -> None:
    """auto_explain in every pooled connection, its plans sent to this client as notices
    (client_min_messages) and written to `path`: the server's log is not needed."""
    from chalicelib.infra import db

    out = open(path, "w")  # noqa: SIM115 - open for the whole run
    configure = db._configure

    def explained(conn) -> None:
        conn.add_notice_handler(lambda diag: out.write(f"{diag.message_primary}\n\n") and out.flush())
        for statement in (
            "LOAD 'auto_explain'",
            "SET auto_explain.log_min_duration = 100",
            "SET auto_explain.log_analyze = on",
            "SET auto_explain.log_buffers = on",
            "SET auto_explain.log_nested_statements = on",
            "SET client_min_messages = log",
        ):
            conn.execute(statement)
        configure(conn)

    db._configure = explained


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--existing", type=int, default=100_000)
    parser.add_argument("--code", metavar="DIR", help="the checkout whose code is measured (default: this one)")
    parser.add_argument(
        "--explain", metavar="FILE", help="write EXPLAIN (ANALYZE, BUFFERS) of every import statement over 100 ms here"
    )
    parser.add_argument(
        "--prepare",
        metavar="SQL",
        action="append",
        default=[],
        help="run this SQL in the bench database after seeding it, before the import (repeatable): "
        "an experiment, e.g. DROP TRIGGER ...",
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench database (its name is printed)")
    args = parser.parse_args()
    if args.explain:
        _explain_into(args.explain)

    from chalicelib.infra import db, storage
    from chalicelib.infra.migrations import migrate

    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(BENCH_DB)))
    try:
        migrate(os.environ["DATABASE_URL"])
        storage.ensure_bucket()
        _run(args, db, storage)
    finally:
        db.close_pool()
        try:
            storage.delete_prefix("")
            storage.client().remove_bucket(storage.bucket())
        except Exception as exc:
            print(f"bucket cleanup failed: {exc}")
        if args.keep:
            print(f"kept database {BENCH_DB}")
        else:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(
                    psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(BENCH_DB))
                )


def _run(args, db, storage) -> None:
    import app as app_module

    today = date.today()
    start = (today.replace(day=1) - timedelta(days=540)).replace(day=1)
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        user_id = conn.execute(
            "INSERT INTO users (email, password_hash) VALUES ('bench@example.com', 'x') RETURNING id"
        ).fetchone()[0]
        account_id, copy_account = (
            conn.execute(
                "INSERT INTO accounts (user_id, name, type) VALUES (%s, %s, 'checking') RETURNING id", (user_id, name)
            ).fetchone()[0]
            for name in ("Imported", "Raw COPY")
        )
        # The account already holds rows: a year and a half of history, a quarter of it
        # categorized by hand (what learned categorization reads).
        history = list(_rows(args.existing, seed=1, start=start, days=540))
        _copy(conn, _copy_text(history, user_id=user_id, account_id=account_id))
        conn.execute(
            """UPDATE transactions
                  SET category_id = (SELECT id FROM categories WHERE is_default AND name = 'Groceries'),
                      categorization_source = 'manual'
                WHERE account_id = %s AND description LIKE 'CORNER BAKERY%%'""",
            (account_id,),
        )
        conn.execute("ANALYZE transactions")
        for statement in args.prepare:
            conn.execute(statement)
        balance_before = conn.execute("SELECT balance FROM accounts WHERE id = %s", (account_id,)).fetchone()[0]

    new_rows = list(_rows(args.rows, seed=2, start=start, days=540))
    # 1 % of the file is already in the account: dedupe has real work.
    new_rows[: args.rows // 100] = history[: args.rows // 100]
    data = _csv(new_rows)
    copy_data = _copy_text(new_rows, user_id=user_id, account_id=copy_account)
    del new_rows, history

    key = f"imports/{user_id}/{account_id}/bench/statement.csv"
    etag = storage.put_bytes(key, data, content_type="text/csv")
    event = {
        "Records": [
            {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": storage.bucket()},
             "object": {"key": key, "eTag": etag, "size": len(data)}}}
        ]
    }  # fmt: skip
    print(f"code: {_code_root()}; load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"file: {args.rows:,} rows, {len(data) / 1e6:.1f} MB; account holds {args.existing:,} rows")

    phases = _time_phases()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    db_before, cpu_started = _db_cpu(), time.process_time()
    started = time.perf_counter()
    app_module.statement_uploaded(event, None)
    elapsed = time.perf_counter() - started
    python_cpu, database_cpu = time.process_time() - cpu_started, _cpu_since(db_before)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        log = conn.execute(
            "SELECT status, transactions_added, duplicates_skipped, error_message FROM data_sync_logs"
        ).fetchone()
        balance = conn.execute("SELECT balance FROM accounts WHERE id = %s", (account_id,)).fetchone()[0]
        stored = conn.execute("SELECT sum(amount) FROM transactions WHERE account_id = %s", (account_id,)).fetchone()[0]
        imported = conn.execute(
            "SELECT sum(amount) FROM transactions WHERE account_id = %s AND import_id IS NOT NULL", (account_id,)
        ).fetchone()[0]
        categorized = conn.execute(
            "SELECT count(*) FROM transactions WHERE account_id = %s AND import_id IS NOT NULL"
            " AND category_id IS NOT NULL",
            (account_id,),
        ).fetchone()[0]
        copy_started = time.perf_counter()
        with conn.transaction():
            _copy(conn, copy_data)
        copy_elapsed = time.perf_counter() - copy_started
        copy_balance = conn.execute("SELECT balance FROM accounts WHERE id = %s", (copy_account,)).fetchone()[0]

    # The same file again under another key: every row is a duplicate now.
    again_key = key.replace("statement.csv", "statement-again.csv")
    again_etag = storage.put_bytes(again_key, data, content_type="text/csv")
    again = {
        "Records": [
            {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": storage.bucket()},
             "object": {"key": again_key, "eTag": again_etag, "size": len(data)}}}
        ]
    }  # fmt: skip
    first_phases = dict(phases)
    phases.clear()
    db_before, cpu_started = _db_cpu(), time.process_time()
    again_started = time.perf_counter()
    app_module.statement_uploaded(again, None)
    again_elapsed = time.perf_counter() - again_started
    again_python_cpu, again_database_cpu = time.process_time() - cpu_started, _cpu_since(db_before)
    rss_again = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        again_log = conn.execute(
            "SELECT status, transactions_added, duplicates_skipped FROM data_sync_logs WHERE file_key = %s",
            (again_key,),
        ).fetchone()
        again_balance = conn.execute("SELECT balance FROM accounts WHERE id = %s", (account_id,)).fetchone()[0]

    # Peak Python heap in a second run of the read phase alone (tracemalloc slows Python
    # down several times, so it is kept out of the timed run).
    from chalicelib.imports import source
    from chalicelib.imports.staging import RowSpool
    from chalicelib.imports.statement import StatementRow
    from chalicelib.imports.statement_readers import read_statement

    tracemalloc.start()
    with source.fetched(key, size=len(data), max_bytes=50 * 1024 * 1024) as statement, RowSpool() as spool:
        source.inspect_content(statement, format=None)
        account = {"id": None, "type": "checking", "currency": "USD", "account_number_masked": None}
        for row in read_statement(statement, mapping=None, account=account).rows():
            if isinstance(row, StatementRow):
                spool.add(row)
    _, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # Opening balance 0: the balance must be the sum of every row, and move by exactly the import's rows.
    exact = balance == stored and balance - balance_before == imported
    print(f"import: {log[0]}, {log[1]:,} added, {log[2]:,} duplicates skipped, {categorized:,} categorized")
    print(f"import: {elapsed:.2f} s = {args.rows / elapsed:,.0f} rows/s; balance exact: {exact}")
    print(
        f"import CPU: Python {python_cpu:.2f} s + database {database_cpu:.2f} s = "
        f"{python_cpu + database_cpu:.2f} s; re-import CPU: Python {again_python_cpu:.2f} s + database "
        f"{again_database_cpu:.2f} s"
    )
    print(f"raw COPY: {copy_elapsed:.2f} s = {args.rows / copy_elapsed:,.0f} rows/s; balance {copy_balance}")
    print("import phases: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in first_phases.items()))
    print(
        f"re-import of the same file: {again_log[0]}, {again_log[1]:,} added, {again_log[2]:,} duplicates; "
        f"{again_elapsed:.2f} s = {args.rows / again_elapsed:,.0f} rows/s; "
        f"balance unchanged: {again_balance == balance}"
    )
    print("re-import phases: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in phases.items()))
    print(f"import rate / COPY rate: {(args.rows / elapsed) / (args.rows / copy_elapsed):.0%}")
    print(
        f"peak RSS of the process: {rss_after / 1024:.0f} MB after the import, {rss_again / 1024:.0f} MB after the "
        f"re-import (before the import: {rss_before / 1024:.0f} MB)"
    )
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.prepare:
        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
            for row in conn.execute(
                "SELECT funcname, calls, round(self_time::numeric / 1000, 2) AS self_s,"
                " round(total_time::numeric / 1000, 2) AS total_s"
                " FROM pg_stat_user_functions WHERE total_time > 50 ORDER BY total_time DESC"
            ):
                print(f"function {row[0]}: {row[1]:,} calls, self {row[2]} s, total {row[3]} s")
    print(f"peak Python heap while parsing: {heap_peak / 1e6:.1f} MB")
    if log[0] != "completed" or not exact:
        raise SystemExit(f"import wrong: {log}")
    if again_log[0] != "completed" or again_log[1] != 0 or again_balance != balance:
        raise SystemExit(f"re-import wrong: {again_log}")


if __name__ == "__main__":
    main()
