"""The outbox under faults, on a real node: the node dies in the middle of a stream of
writes and comes back; a reindex races writes. Afterwards every row of PostgreSQL is in
the index exactly once with its latest content (and, without a reindex, the version of
its newest outbox entry), nothing deleted lingers, nothing is parked."""

import random
import signal
import socket
import subprocess
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from psycopg import sql
from psycopg.rows import dict_row

from chalicelib.infra import db, es_client, outbox
from chalicelib.search import indices
from chalicelib.search.sync import run_search_sync
from tests import factories
from tests.search.conftest import ES_REQUIRED, ES_URL, _on_cluster

NODE_DIR = Path(__file__).resolve().parents[2] / "tools" / "search-node"


def _free_port() -> int:
    """A free HTTP port whose transport port (+100) is free too, below the ephemeral range."""
    for port in random.sample(range(9210, 9290), 80):
        try:
            for p in (port, port + 100):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for a search node")


class OwnNode:
    """A search node of this test alone (tools/search-node), so it can be killed."""

    def __init__(self, base: Path):
        self.port = _free_port()
        self.base = base
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 180.0) -> None:
        classpath = f"{NODE_DIR / 'target' / 'classes'}:{(NODE_DIR / 'target' / 'classpath.txt').read_text().strip()}"
        command = ["java", "-Xms256m", "-Xmx512m", f"-Dfiscaflow.port={self.port}", f"-Dfiscaflow.base={self.base}"]
        self.process = subprocess.Popen(
            [*command, "-cp", classpath, "fiscaflow.SearchNode"],
            stdout=open(self.base / "node.log", "ab"),  # noqa: SIM115 - the child keeps it
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        import urllib3

        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.base / "node.log").read_text()[-2000:]
            try:
                health = urllib3.request(
                    "GET", f"{self.url}/_cluster/health?wait_for_status=yellow&timeout=1s", timeout=3.0, retries=False
                )
                if health.status == 200:
                    return
            except urllib3.exceptions.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError("own search node did not start")

    def kill(self) -> None:
        """A crash, not a clean stop: SIGKILL."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)


@pytest.fixture
def own_node(tmp_path, client, monkeypatch):
    if not ES_URL and not ES_REQUIRED:
        pytest.skip("no search cluster in this run (set TEST_ELASTICSEARCH_URL)")
    if not (NODE_DIR / "target" / "classpath.txt").exists():
        pytest.fail("tools/search-node is not built (scripts/services.sh builds it where java and mvn exist)")
    node = OwnNode(tmp_path)
    node.start()
    try:
        for _prefix in _on_cluster(monkeypatch, node.url):
            yield node
    finally:
        node.kill()


class Writer:
    """A stream of ledger writes on its own connection (each change and its outbox entry
    in one transaction, as the ledger writes them): inserts, updates and deletes, and
    now and then an import of a few rows queued as one transaction set."""

    def __init__(self, db_url: str, user_id, account_id, seed: int):
        self.db_url, self.user_id, self.account_id = db_url, user_id, account_id
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.writes = 0
        self.deletes = 0
        self.sets = 0
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Writer":
        self._thread.start()
        return self

    def finish(self) -> None:
        self.stop.set()
        self._thread.join(60)
        assert self.error is None, self.error

    def _run(self) -> None:
        try:
            with db.connect(self.db_url, row_factory=dict_row) as conn:
                while not self.stop.is_set():
                    with conn.transaction():
                        self._one(conn)
                    self.writes += 1
                    time.sleep(0.002)
        except BaseException as exc:  # surfaced by finish()
            self.error = exc

    def _one(self, conn) -> None:
        roll = self.rng.random()
        existing = conn.execute(
            "SELECT id FROM transactions WHERE user_id = %s ORDER BY random() LIMIT 1", (self.user_id,)
        ).fetchone()
        if roll < 0.1:  # an import: its rows queued as one transaction set (sql/1321)
            ids = [
                factories.make_transaction(
                    conn, self.user_id, self.account_id, Decimal(self.rng.randint(-50_000, -1)) / 100,
                    description=f"Imported {self.writes}.{i}",
                )
                for i in range(self.rng.randint(5, 20))
            ]  # fmt: skip
            conn.execute(
                sql.SQL("WITH inserted AS (SELECT unnest(%s::uuid[]) AS id) {}").format(
                    outbox.set_upsert_of(sql.Identifier("inserted"), set_id=sql.Literal(str(uuid.uuid4())))
                ),
                (ids,),
            )
            self.sets += 1
        elif roll < 0.5 or existing is None:
            tx = factories.make_transaction(
                conn, self.user_id, self.account_id, Decimal(self.rng.randint(-50_000, -1)) / 100,
                description=f"Stream {self.writes}",
            )  # fmt: skip
            outbox.record_changes(conn, aggregate_type="transaction", ids=[tx])
        elif roll < 0.85:
            conn.execute(
                "UPDATE transactions SET description = %s, amount = %s, updated_at = now() WHERE id = %s",
                (f"Edited {self.writes}", Decimal(self.rng.randint(-50_000, -1)) / 100, existing["id"]),
            )
            outbox.record_changes(conn, aggregate_type="transaction", ids=[existing["id"]])
        else:
            conn.execute("DELETE FROM transactions WHERE id = %s", (existing["id"],))
            outbox.record_changes(conn, aggregate_type="transaction", ids=[existing["id"]], operation="delete")
            self.deletes += 1


def _drain_until_empty(rounds: int = 50) -> None:
    for _ in range(rounds):
        report = run_search_sync(batch_size=200)
        assert not report.parked, report.parked
        if report.error is None and report.pending == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"outbox not drained: {report}")


def _assert_index_matches_the_tables(conn, *, versions: bool) -> int:
    client = es_client.client()
    alias = es_client.alias("transactions")
    client.indices.refresh(index=alias)
    rows = {
        str(r["id"]): r
        for r in conn.execute("SELECT id, description, amount, updated_at, family_id FROM transactions").fetchall()
    }
    docs: dict[str, dict] = {}
    response = client.search(index=alias, size=1000, version=True, sort=[{"id": "asc"}], query={"match_all": {}})
    while hits := response["hits"]["hits"]:
        for hit in hits:
            assert hit["_id"] not in docs, f"{hit['_id']} indexed twice"
            docs[hit["_id"]] = hit
        response = client.search(
            index=alias, size=1000, version=True, sort=[{"id": "asc"}], query={"match_all": {}},
            search_after=hits[-1]["sort"],
        )  # fmt: skip
    assert set(docs) == set(rows), (len(docs), len(rows))
    assert client.count(index=alias)["count"] == len(rows)
    for doc_id, row in rows.items():
        source = docs[doc_id]["_source"]
        assert (source["description"], source["amount"]) == (row["description"], f"{row['amount']:.2f}"), doc_id
        assert source["updated_at"] == row["updated_at"].isoformat()
    if versions:
        newest = {
            r["aggregate_id"]: r["newest"]
            for r in conn.execute(
                "SELECT aggregate_id::text AS aggregate_id, max(id) AS newest FROM ("
                " SELECT aggregate_id, id FROM outbox WHERE aggregate_type = 'transaction' UNION ALL"
                " SELECT unnest(aggregate_ids), id FROM outbox WHERE aggregate_type = 'transaction_set') e GROUP BY 1"
            )
        }
        assert {d: docs[d]["_version"] for d in docs} == {d: newest[d] for d in docs}
    parked = conn.execute("SELECT count(*) AS n FROM outbox WHERE parked_at IS NOT NULL").fetchone()["n"]
    assert parked == 0
    return len(rows)


def test_a_node_killed_in_a_stream_of_writes_ends_with_every_row_once_and_latest(own_node, conn, db_url, make_user):
    user = make_user()
    account = factories.make_account(conn, user["id"])
    writer = Writer(db_url, user["id"], account, seed=1).start()
    try:
        for _ in range(5):  # syncing while the writes stream
            report = run_search_sync(batch_size=50)
            assert report.error is None and not report.parked, report
            time.sleep(0.2)
        own_node.kill()
        down = [run_search_sync(batch_size=50) for _ in range(3)]  # the node is gone, writes go on
        assert all(r.error and "unavailable" in r.error and not r.parked for r in down), down
        time.sleep(0.5)
        own_node.start()
        for _ in range(3):  # back, the stream still going
            run_search_sync(batch_size=50)
    finally:
        writer.finish()
    _drain_until_empty()

    rows = _assert_index_matches_the_tables(conn, versions=True)
    assert rows > 10 and writer.writes > 50 and writer.sets > 0


def test_a_reindex_racing_writes_ends_with_every_row_once_and_latest(cluster, conn, db_url, make_user):
    user = make_user()
    account = factories.make_account(conn, user["id"])
    for i in range(400):
        tx = factories.make_transaction(conn, user["id"], account, "-1.00", description=f"Seeded {i}")
        outbox.record_changes(conn, aggregate_type="transaction", ids=[tx])
    _drain_until_empty()

    writer = Writer(db_url, user["id"], account, seed=2).start()
    try:
        time.sleep(0.3)
        report = indices.reindex()
        for _ in range(3):
            run_search_sync(batch_size=100)
    finally:
        writer.finish()
    _drain_until_empty()

    # The stream deletes rows too: the reindex's snapshot held the seeded rows less those
    # deleted before it was taken (at most every delete of the run).
    assert report.documents["transactions"] >= 400 - writer.deletes
    _assert_index_matches_the_tables(conn, versions=False)
