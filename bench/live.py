"""Benchmark: live updates to 1,000 connected clients, one write that concerns 50 of them.

    .venv/bin/python bench/live.py [--clients 1000] [--audience 50] [--writes 100]

Creates its own database (fiscaflow_bench_live_<pid>) and Redis prefix, seeds CLIENTS
users with a live session each; AUDIENCE of them form one family with a shared account.
Three processes, as under `make run`: the local WebSocket gateway (`fiscaflow ws-gateway`
on free ports), the clients (one asyncio process holding every connection) and this one,
which writes through the app (`chalice.test.Client`, POST /transactions on the family
account by its owner). Each write changes the dashboard of all AUDIENCE members, so each
of their connections must receive a `dashboard.updated`.

Measured per write: commit → the last of the AUDIENCE pushes received (the commit time is
taken where the publisher starts, right after the transaction commits), and the write's
own latency, alternating with the same write on a second family of AUDIENCE users who
never connect (no listeners); all of it twice, with LIVE_PUSH_WAIT_MS=0 (local default)
and 250 (the deployed setting: the write waits for its pushes, or for their hand-off).
Goals (issue 20): p99 commit→last push ≤ 250 ms; writes with listeners ≤ 10 % slower.

Delivery as under `make run`: the writer hands its pushes to the push function
(LIVE_PUSH_FUNCTION), which the gateway runs behind its Lambda Invoke API; `--in-process`
delivers in the writer, as before the push function (a tree without it does so anyway).
Each write starts once the previous one's after-commit work (its alert pass) is done and
after a 100 ms pause, so that neither series starts on the other's tail; `--overlap`
measures as the bench did before (BENCHMARKS.md "Live updates": that skewed the ratio).

    bash bench/live_before_after.sh main 1 --writes 100   # main's app, then this tree's
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import wait as wait_for
from datetime import date
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = f"fiscaflow_bench_live_{os.getpid()}"
DB_URL = psycopg.conninfo.make_conninfo(ADMIN_URL, dbname=DB_NAME)

SEED = """
WITH new_users AS (
    INSERT INTO users (email, password_hash, timezone)
    SELECT 'live-' || n || '@example.com', 'not-a-login-hash', 'UTC' FROM generate_series(1, %(n)s) n
    RETURNING id, email
)
INSERT INTO user_sessions (user_id, refresh_token, expires_at)
SELECT id, md5(random()::text), now() + interval '1 day' FROM new_users
RETURNING user_id, id AS session_id
"""


# The pause before each write (see write() below).
SETTLE_SECONDS = 0.1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def _load() -> str:
    """The load average, printed beside every figure: this machine is shared."""
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def _summary(values: list[float]) -> str:
    return (
        f"p50 {statistics.median(values):.1f} ms, p95 {_percentile(values, 95):.1f} ms, "
        f"p99 {_percentile(values, 99):.1f} ms, max {max(values):.1f} ms"
    )


# --- the clients' process ---------------------------------------------------------------


def _raise_open_files() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))


def clients_main(url: str, tokens: list[str], audience: int, pipe) -> None:
    _raise_open_files()
    asyncio.run(_clients(url, tokens, audience, pipe))


async def _clients(url: str, tokens: list[str], audience: int, pipe) -> None:
    from websockets.asyncio.client import connect

    received: asyncio.Queue = asyncio.Queue()
    strays = 0

    async def hold(index: int, token: str, ready: asyncio.Event, stop: asyncio.Event) -> None:
        async with connect(f"{url}/?token={token}", open_timeout=60, max_queue=None) as ws:
            ready.set()
            reader = asyncio.ensure_future(_read(ws, index))
            await stop.wait()
            reader.cancel()

    async def _read(ws, index: int) -> None:
        nonlocal strays
        async for message in ws:
            at = time.time()
            if json.loads(message)["type"] == "dashboard.updated" and index < audience:
                received.put_nowait(at)
            else:
                strays += 1

    stop = asyncio.Event()
    tasks, readies = [], []
    for i, token in enumerate(tokens):
        ready = asyncio.Event()
        readies.append(ready)
        tasks.append(asyncio.ensure_future(hold(i, token, ready, stop)))
        if i % 50 == 49:
            await asyncio.gather(*(r.wait() for r in readies[-50:]))
    await asyncio.gather(*(r.wait() for r in readies))
    pipe.send("ready")
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, pipe.recv)
        if command == "stop":
            break
        times = []
        try:
            for _ in range(audience):
                times.append(await asyncio.wait_for(received.get(), 10))
        except TimeoutError:
            pass
        pipe.send((times, strays))
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    pipe.send("closed")


# --- this process -------------------------------------------------------------------------


BUDGETS = """
WITH budget AS (
    INSERT INTO budgets (user_id, family_id, name, period_type, start_date, total_amount)
    SELECT o, %(family)s, n, 'monthly', DATE '2024-01-31', 1000000
      FROM unnest(%(owners)s::uuid[], %(names)s::text[]) AS b(o, n)
    RETURNING id
)
INSERT INTO budget_categories (budget_id, category_id, allocated_amount)
SELECT budget.id, c.id, 1000000 FROM budget, categories c
 WHERE c.is_default AND c.name IN ('Groceries', 'Restaurants')
"""


def _family(conn, members: list) -> str:
    """A family of these users (the first owns it) with a shared account, a family budget
    over groceries and restaurants, and one member in five with a personal budget too (so
    members' dashboards differ); the shared account's id. Allocations are so large that no
    write crosses an alert threshold."""
    owner = members[0]
    family = conn.execute(
        "INSERT INTO family_groups (name, owner_id) VALUES ('Bench', %s) RETURNING id", (owner,)
    ).fetchone()[0]
    conn.execute(
        """INSERT INTO family_members (family_id, user_id, role)
           SELECT %s, u, CASE WHEN u = %s THEN 'owner' ELSE 'member' END FROM unnest(%s::uuid[]) u""",
        (family, owner, members),
    )
    conn.execute(BUDGETS, {"family": family, "owners": [owner], "names": ["Family food"]})
    personal = members[1::5]
    conn.execute(BUDGETS, {"family": None, "owners": personal, "names": ["Eating out"] * len(personal)})
    return conn.execute(
        """INSERT INTO accounts (user_id, family_id, name, type, opening_balance)
           VALUES (%s, %s, 'Shared', 'checking', 10000) RETURNING id""",
        (owner, family),
    ).fetchone()[0]


def _groceries(conn) -> str:
    return conn.execute(
        "SELECT id FROM categories WHERE is_default AND name = 'Groceries' AND parent_id IS NOT NULL"
    ).fetchone()[0]


def _request(account, writer: tuple, category) -> dict:
    """A write by `writer` (user id, session id); its token is issued per write, since a
    run under load can outlast an access token."""
    body = {"account_id": str(account), "amount": "-1.00", "description": "Bench", "category_id": str(category)}
    return {"writer": writer, "body": json.dumps({**body, "transaction_date": date.today().isoformat()})}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--audience", type=int, default=50)
    parser.add_argument("--writes", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--overlap",
        action="store_true",
        help="start each write without waiting for the previous one's after-commit work",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="deliver in the writer's process (no LIVE_PUSH_FUNCTION), as before the push function",
    )
    args = parser.parse_args()
    _raise_open_files()
    print(
        f"bench/live.py: {args.clients} clients, audience {args.audience}, {args.writes} writes; {_load()}", flush=True
    )

    ws_port, management_port = _free_port(), _free_port()
    env = {
        "DATABASE_URL": DB_URL,
        "REDIS_KEY_PREFIX": f"bench:live:{secrets.token_hex(3)}:",
        "LOG_LEVEL": "WARNING",
        "LIVE_MANAGEMENT_ENDPOINT": f"http://127.0.0.1:{management_port}",
        "LIVE_PUSH_WAIT_MS": "0",
    }
    if not args.in_process:
        # As under `make run`: the writer hands its pushes to the push function, which the
        # gateway runs (its Lambda Invoke API answers on the management port).
        env["LIVE_PUSH_FUNCTION"] = "fiscaflow-local-live_push"
        env["LIVE_PUSH_INVOKE_ENDPOINT"] = env["LIVE_MANAGEMENT_ENDPOINT"]
    os.environ.update(env)
    from chalice.test import Client

    import app as app_module
    from chalicelib.auth.tokens import issue_access_token
    from chalicelib.infra import cache, db, settings
    from chalicelib.infra.migrations import migrate
    from chalicelib.live import publisher

    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(DB_NAME)))
    gateway = None
    try:
        migrate(DB_URL)
        with psycopg.connect(DB_URL, autocommit=True) as conn:
            # CLIENTS users who connect, then AUDIENCE more who never do (the unheard family).
            rows = conn.execute(SEED, {"n": args.clients + args.audience}).fetchall()
            users = [(r[0], issue_access_token(user_id=r[0], session_id=r[1])) for r in rows]
            writers = [tuple(rows[0]), tuple(rows[args.clients])]
            groceries = _groceries(conn)
            heard = _request(_family(conn, [u for u, _ in users[: args.audience]]), writers[0], groceries)
            unheard = _request(_family(conn, [u for u, _ in users[args.clients :]]), writers[1], groceries)
        gateway = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/fiscaflow"),
                "ws-gateway",
                "--port",
                str(ws_port),
                "--management-port",
                str(management_port),
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            text=True,
        )
        gateway.stdout.readline()  # "local WebSocket gateway on …"

        commits: list[float] = []
        flush = publisher._flush

        def timed_flush(items):
            commits.append(time.time())
            flush(items)

        publisher._flush = timed_flush
        # Where the push time goes: the figures of all recipients of a write vs sending one frame.
        spent: dict[str, list[float]] = {"dashboard frames (all recipients of a write)": [], "send": []}

        def timed(name, fn):
            def run(*a, **kw):
                started = time.perf_counter()
                result = fn(*a, **kw)
                spent[name].append((time.perf_counter() - started) * 1000)
                return result

            return run

        if hasattr(publisher, "dashboard_frames"):
            publisher.dashboard_frames = timed(
                "dashboard frames (all recipients of a write)", publisher.dashboard_frames
            )
        else:  # a tree from before the set-based figures: one call per recipient
            spent["dashboard figures (one recipient)"] = []
            publisher.dashboard_figures = timed("dashboard figures (one recipient)", publisher.dashboard_figures)
        publisher.send = timed("send", publisher.send)
        try:
            from chalicelib.live import handoff
        except ImportError:  # a tree from before the push function
            handoff = None
        handing_off = handoff is not None and not args.in_process
        delivery = "by the push function (hand-off)" if handing_off else "in the writer"
        order = "overlapping" if args.overlap else "after"
        print(f"delivery: {delivery}; each write starts {order} the previous one's after-commit work", flush=True)
        if handoff is not None:
            # The writer's whole cost of a write's pushes: one invoke (wall and this thread's CPU).
            spent["hand-off invoke, wall"], spent["hand-off invoke, CPU"] = [], []
            invoke = handoff.invoke

            def timed_invoke(*a):
                wall, cpu = time.perf_counter(), time.thread_time()
                try:
                    return invoke(*a)
                finally:
                    spent["hand-off invoke, CPU"].append((time.thread_time() - cpu) * 1000)
                    spent["hand-off invoke, wall"].append((time.perf_counter() - wall) * 1000)

            handoff.invoke = timed_invoke

        # A write's after-commit work (the alert pass over its budgets, infra/background)
        # runs on after its response. Each write waits for the previous one's, so that
        # neither series runs on the other's tail: without this, every heard write started
        # on the alert pass of the unheard write just before it, while the unheard one
        # started after 100 ms of waiting for pushes (--overlap: as before).
        from chalicelib.infra import background

        pending: list = []
        executor = background._executor()
        submit = executor.submit

        def tracked(*a, **kw):
            future = submit(*a, **kw)
            pending.append(future)
            return future

        if not args.overlap:
            executor.submit = tracked

        def write(http, which) -> float:
            user_id, session_id = which["writer"]
            token = issue_access_token(user_id=user_id, session_id=session_id)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            if not args.overlap:
                wait_for(pending, timeout=10)
                pending.clear()
                # ... and the other processes' (the push function finishing, PostgreSQL):
                # both series start from the same idle state.
                time.sleep(SETTLE_SECONDS)
            started = time.perf_counter()
            response = http.post("/transactions", headers=headers, body=which["body"])
            assert response.status_code == 201, response.body
            return (time.perf_counter() - started) * 1000

        def wait_ms(value: int) -> None:
            os.environ["LIVE_PUSH_WAIT_MS"] = str(value)
            settings.get_settings.cache_clear()

        with Client(app_module.app, stage_name="local") as client:
            for _ in range(10):  # warm-up: pool, plans, boto3 client
                write(client.http, heard)
                write(client.http, unheard)

            spawn = multiprocessing.get_context("spawn")  # no fork of a process holding pools and threads
            parent, child = spawn.Pipe()
            clients = spawn.Process(
                target=clients_main,
                args=(f"ws://127.0.0.1:{ws_port}", [t for _, t in users[: args.clients]], args.audience, child),
            )
            started = time.perf_counter()
            clients.start()
            assert parent.recv() == "ready"
            print(f"{args.clients} clients connected in {time.perf_counter() - started:.1f} s", flush=True)

            # Writes alternate between the family whose members listen and the one nobody
            # listens to, so both series see the same machine load.
            results, incomplete, strays = {}, 0, 0
            for wait in (0, 250):
                wait_ms(wait)
                print(f"LIVE_PUSH_WAIT_MS={wait} series starts, {_load()}", flush=True)
                push_ms, with_listeners, without = [], [], []
                for _ in range(args.writes + 5):
                    without.append(write(client.http, unheard))
                    commits.clear()
                    parent.send("collect")
                    latency = write(client.http, heard)
                    times, strays = parent.recv()
                    if len(times) < args.audience:
                        incomplete += 1
                        continue
                    push_ms.append((max(times) - commits[0]) * 1000)
                    with_listeners.append(latency)
                results[wait] = (push_ms[5:], with_listeners[5:], without[5:])
            parent.send("stop")
            assert parent.recv() == "closed"
            clients.join(30)

        print(f"series done, {_load()}")
        for wait, (push_ms, with_listeners, without) in results.items():
            print(f"LIVE_PUSH_WAIT_MS={wait}:")
            print(f"  commit -> last of {args.audience} pushes: {_summary(push_ms)} (goal p99 <= 250 ms)")
            print(f"  write with {args.audience} listeners: {_summary(with_listeners)}")
            print(f"  write without listeners: {_summary(without)}")
        for name, values in spent.items():
            if values:
                print(f"one {name} (both runs): {_summary(values)}")
        push_ms, with_listeners, without = results[0]
        slower = statistics.median(with_listeners) / statistics.median(without) - 1
        print(
            f"summary: {args.clients} clients, {args.writes} writes; push p99 {_percentile(push_ms, 99):.1f} ms; "
            f"write p50 {statistics.median(with_listeners):.1f} ms with listeners vs "
            f"{statistics.median(without):.1f} ms without ({slower:+.0%}); incomplete writes {incomplete}; "
            f"frames to non-members {strays}"
        )
    finally:
        if gateway is not None:
            gateway.terminate()
            gateway.wait(10)
        db.close_pool()
        redis = cache.client()
        if redis is not None:
            for key in redis.scan_iter(match=f"{env['REDIS_KEY_PREFIX']}*", count=1000):
                redis.delete(key)
        if args.keep:
            print(f"kept database {DB_NAME}")
        else:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(
                    psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(DB_NAME))
                )


if __name__ == "__main__":
    main()
