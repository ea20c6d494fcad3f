"""Benchmark: cold start per entry point, before and after, in one run (issue 17).

    .venv/bin/python bench/cold_start.py [--runs 7] [--before REV] [--importtime]

Every figure is the median of RUNS fresh Python processes, interleaved round by round
(baseline, then each scenario on the "before" tree and on this one), so that load on
the machine hits both alike. A process times from its first line to the answer:

- baseline: `import chalice, boto3` (the issue's yardstick; goal: `import app` at most twice it);
- import:   `import app`;
- api:      `import app`, then the first `GET /health` and the first authenticated
            `GET /transactions` through `chalice.test.Client` (chalice.test itself is
            imported before the clock starts: Lambda has no test client);
- s3:       `import app`, then the S3 import handler's first call on a small statement;
- schedule: `import app`, then the budget-alerts schedule's first call.

"before" is REV (default: where this branch left main) extracted with `git archive`
into a temporary directory; "after" is the working tree. Both run against one database
(fiscaflow_bench_cold_<pid>, dropped at the end), one bucket and one Redis prefix of
their own; every S3 call imports its own new file (no duplicates). --importtime prints
what `import app` still loads on this tree, heaviest first (python -X importtime).
"""

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RUN = f"{os.getpid()}_{secrets.token_hex(3)}"
ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BENCH_DB = f"fiscaflow_bench_cold_{RUN}"
os.environ.update(
    {
        "DATABASE_URL": psycopg.conninfo.make_conninfo(ADMIN_URL, dbname=BENCH_DB),
        "S3_BUCKET": f"fiscaflow-bench-cold-{RUN.replace('_', '-')}",
        "REDIS_KEY_PREFIX": f"bench:cold:{RUN}:",
        "LOG_LEVEL": "WARNING",
        "LIVE_MANAGEMENT_ENDPOINT": "",
    }
)

SCHEDULED_EVENT = {
    "version": "0",
    "id": "00000000-0000-0000-0000-000000000000",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "000000000000",
    "time": "2026-12-01T00:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:000000000000:rule/budget-alerts"],
    "detail": {},
}

# One child process: argv[1] is the scenario, argv[2] its JSON input; prints JSON timings.
CHILD = r"""
import json, sys, time
scenario, data = sys.argv[1], json.loads(sys.argv[2])
if scenario == "api":
    from chalice.test import Client  # the harness, not the function: outside the clock
out = {}
t0 = time.perf_counter()
if scenario == "baseline":
    import chalice, boto3
    out["import"] = time.perf_counter() - t0
else:
    import app
    out["import"] = time.perf_counter() - t0
    out["tree"] = app.__file__
if scenario == "api":
    client = Client(app.app)
    health = client.http.get("/health")
    out["health"] = time.perf_counter() - t0
    listed = client.http.get("/transactions", headers={"Authorization": "Bearer " + data["token"]})
    out["transactions"] = time.perf_counter() - t0
    assert health.status_code in (200, 503) and listed.status_code == 200, (health.status_code, listed.body)
elif scenario == "s3":
    app.statement_uploaded(data["event"], None)
    out["call"] = time.perf_counter() - t0
elif scenario == "schedule":
    app.budget_alerts(data["event"], None)
    out["call"] = time.perf_counter() - t0
print(json.dumps(out))
"""


def _before_tree(rev: str, into: Path) -> Path:
    tree = into / "before"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")
    if (ROOT / ".env.local").exists():
        shutil.copy(ROOT / ".env.local", tree / ".env.local")
    return tree


def _compile(tree: Path) -> None:
    # Both trees byte-compiled up front, or the first round would pay for compiling.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "app.py", "chalicelib"], cwd=tree, check=True)


def _child(tree: Path, scenario: str, data: dict) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, scenario, json.dumps(data)], cwd=tree, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"{scenario} in {tree} failed:\n{done.stderr[-3000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    if "tree" in out and not out["tree"].startswith(str(tree)):
        raise RuntimeError(f"{tree} imported app from {out['tree']}")
    return out


def _statement(run: int) -> bytes:
    lines = ["Date,Description,Amount"]
    start = date(2026, 6, 1)
    for i in range(20):
        lines.append(f"{start + timedelta(days=i):%m/%d/%Y},COLD START SHOP {run:03d}-{i:02d},-{i + 1}.{run % 100:02d}")
    return ("\n".join(lines) + "\n").encode()


def _seed() -> tuple[str, str, str]:
    from chalicelib.auth.tokens import issue_access_token
    from chalicelib.infra.crypto import token_digest

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        user_id = conn.execute(
            "INSERT INTO users (email, password_hash) VALUES ('cold@example.com', 'x') RETURNING id"
        ).fetchone()[0]
        session_id = conn.execute(
            "INSERT INTO user_sessions (user_id, refresh_token, expires_at) VALUES (%s, %s, %s) RETURNING id",
            (user_id, token_digest(secrets.token_urlsafe(32)), datetime.now(UTC) + timedelta(days=1)),
        ).fetchone()[0]
        account_id = conn.execute(
            "INSERT INTO accounts (user_id, name, type) VALUES (%s, 'Checking', 'checking') RETURNING id", (user_id,)
        ).fetchone()[0]
        conn.execute(
            """INSERT INTO transactions (user_id, account_id, amount, description, transaction_date, status)
               SELECT %s, %s, -(g %% 50 + 1), 'SEED ' || g, DATE '2026-11-01' + (g %% 28), 'posted'
                 FROM generate_series(1, 200) g""",
            (user_id, account_id),
        )
    return str(user_id), str(account_id), issue_access_token(user_id=user_id, session_id=session_id)


def _s3_event(storage, user_id: str, account_id: str, run: int) -> dict:
    key = f"imports/{user_id}/{account_id}/cold-{run:03d}-{uuid.uuid4().hex[:6]}.csv"
    data = _statement(run)
    etag = storage.put_bytes(key, data, content_type="text/csv")
    record = {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": storage.bucket()},
              "object": {"key": key, "eTag": etag, "size": len(data)}}}  # fmt: skip
    return {"Records": [record]}


def _importtime(tree: Path, top: int = 20) -> list[tuple[float, str]]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import app"], cwd=tree, capture_output=True, text=True, check=True
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if cumulative.strip().isdigit() and len(name) - len(name.lstrip()) <= 5:  # two levels deep
            rows.append((int(cumulative) / 1e6, name.rstrip()[1:]))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--before", default=None, help="git revision to compare with (default: merge-base with main)")
    parser.add_argument("--importtime", action="store_true")
    args = parser.parse_args()
    rev = (
        args.before
        or subprocess.run(
            ["git", "-C", str(ROOT), "merge-base", "HEAD", "main"], check=True, capture_output=True, text=True
        ).stdout.strip()
    )

    from chalicelib.infra import db, storage
    from chalicelib.infra.migrations import migrate

    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(BENCH_DB)))
    workdir = Path(tempfile.mkdtemp(prefix="fiscaflow-cold-"))
    try:
        migrate(os.environ["DATABASE_URL"])
        storage.ensure_bucket()
        user_id, account_id, token = _seed()
        trees = {"before": _before_tree(rev, workdir), "after": ROOT}
        for tree in trees.values():
            _compile(tree)
        print(f"before = {rev[:10]} (git archive), after = working tree; {args.runs} rounds; {_load()}")
        samples: dict[tuple[str, str, str], list[float]] = {}
        calls = 0
        for _ in range(args.runs):
            out = _child(ROOT, "baseline", {})
            samples.setdefault(("baseline", "-", "import"), []).append(out["import"])
            for label, tree in trees.items():
                for scenario in ("import", "api", "s3", "schedule"):
                    data = {"token": token, "event": SCHEDULED_EVENT}
                    if scenario == "s3":
                        data["event"] = _s3_event(storage, user_id, account_id, calls)
                        calls += 1
                    out = _child(tree, scenario, data)
                    for step, seconds in out.items():
                        if step != "tree":
                            samples.setdefault((scenario, label, step), []).append(seconds)
        _report(samples, args.runs)
        with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
            done = conn.execute("SELECT count(*) FROM data_sync_logs WHERE status = 'completed'").fetchone()[0]
        print(f"imports completed: {done} of {calls}; {_load()}")
        if args.importtime:
            print("\n`import app` on this tree, heaviest imports two levels deep (cumulative s, one process):")
            for seconds, name in _importtime(ROOT):
                print(f"  {seconds:6.3f}  {name}")
    finally:
        db.close_pool()
        shutil.rmtree(workdir, ignore_errors=True)
        try:
            storage.delete_prefix("")
            storage.client().remove_bucket(storage.bucket())
        except Exception as exc:
            print(f"bucket cleanup failed: {exc}")
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(BENCH_DB))
            )


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def _report(samples: dict[tuple[str, str, str], list[float]], runs: int) -> None:
    baseline = statistics.median(samples[("baseline", "-", "import")])
    rows = [
        ("import chalice, boto3", "baseline", "-", "import"),
        ("import app", "import", "{}", "import"),
        ("API: import + first GET /health", "api", "{}", "health"),
        ("API: ... + first GET /transactions", "api", "{}", "transactions"),
        ("S3 import handler: import + first call", "s3", "{}", "call"),
        ("budget-alerts schedule: import + first call", "schedule", "{}", "call"),
    ]
    print(f"\n{'median of ' + str(runs) + ' fresh processes':44} {'before':>9} {'after':>9} {'after/baseline':>15}")
    for title, scenario, label, step in rows:
        if label == "-":
            print(f"{title:44} {baseline:8.3f}s {baseline:8.3f}s {1.0:14.2f}×")
            continue
        before = statistics.median(samples[(scenario, "before", step)])
        after = statistics.median(samples[(scenario, "after", step)])
        print(f"{title:44} {before:8.3f}s {after:8.3f}s {after / baseline:14.2f}×")


if __name__ == "__main__":
    main()
