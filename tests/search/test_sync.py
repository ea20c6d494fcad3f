"""search-sync: the outbox drain. A stub Elasticsearch *client object* stands in for the
cluster where the test needs one that answers; the database is always the real one."""

import json
import socket
import threading
import time
from uuid import uuid4

from psycopg import sql

from chalicelib.cli import main
from chalicelib.infra import outbox
from chalicelib.search import repo as search_repo
from chalicelib.search.sync import MAX_ATTEMPTS, run_search_sync
from tests import factories


class StubES:
    """Answers bulk requests like Elasticsearch 8 with external versions: a version not
    above the stored one is a 409; ids in `poison` are refused with a 400."""

    def __init__(self, poison=(), delay=0.0, busy_once=()):
        self.poison = set(poison)
        self.busy_once = set(busy_once)  # ids answered 429 the first time they are sent
        self.delay = delay
        self.sent: list[tuple[str, str, int]] = []
        self.versions: dict[str, int] = {}
        self.lock = threading.Lock()

    def bulk(self, *, operations, require_alias=False):
        assert require_alias
        time.sleep(self.delay)
        items, lines = [], iter(operations)
        for line in lines:
            ((action, meta),) = line.items()
            if action == "index":
                next(lines)
            doc_id, version = meta["_id"], meta["version"]
            assert meta["version_type"] == "external"
            with self.lock:
                self.sent.append((action, doc_id, version))
                if doc_id in self.busy_once:
                    self.busy_once.discard(doc_id)
                    result = {"status": 429, "error": {"type": "es_rejected_execution_exception"}}
                elif doc_id in self.poison:
                    result = {"status": 400, "error": {"type": "mapper_parsing_exception", "reason": "bad field"}}
                elif version <= self.versions.get(doc_id, 0):
                    result = {"status": 409, "error": {"type": "version_conflict_engine_exception"}}
                else:
                    self.versions[doc_id] = version
                    result = {"status": 201 if action == "index" else 200}
            items.append({action: {"_id": doc_id, **result}})
        return {"errors": any(i[a]["status"] >= 300 for i in items for a in i), "items": items}


def _transactions(conn, count=3):
    user_id = conn.execute(
        "INSERT INTO users (email, password_hash) VALUES ('s@example.com', 'x') RETURNING id"
    ).fetchone()["id"]
    account = factories.make_account(conn, user_id)
    ids = [factories.make_transaction(conn, user_id, account, "-1.00", description=f"T{i}") for i in range(count)]
    outbox.record_changes(conn, aggregate_type="transaction", ids=ids)
    return ids


def _pending(conn):
    return conn.execute(
        "SELECT id, aggregate_id, attempts, last_error, parked_at FROM outbox WHERE processed_at IS NULL ORDER BY id"
    ).fetchall()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_on_the_postgres_engine_the_run_marks_the_outbox_processed(db_url, conn):
    _transactions(conn)

    report = run_search_sync()

    assert report.engine == "postgres" and report.marked_processed == 3 and report.pending == 0
    assert _pending(conn) == []


def test_processed_rows_are_purged_after_a_week(db_url, conn):
    _transactions(conn, 2)
    conn.execute("UPDATE outbox SET processed_at = now() - interval '8 days' WHERE id = (SELECT min(id) FROM outbox)")

    report = run_search_sync()

    assert report.purged == 1
    assert conn.execute("SELECT count(*) AS n FROM outbox").fetchone()["n"] == 1


def test_an_unreachable_cluster_loses_nothing_and_the_next_run_catches_up(db_url, conn, es_at):
    ids = _transactions(conn)
    es_at(f"http://127.0.0.1:{_closed_port()}")

    started = time.monotonic()
    report = run_search_sync()

    assert time.monotonic() - started < 5
    assert report.error and "unavailable" in report.error
    assert [(r["aggregate_id"], r["attempts"], r["parked_at"]) for r in _pending(conn)] == [(i, 0, None) for i in ids]

    stub = StubES()
    caught_up = run_search_sync(client=stub)

    assert caught_up.error is None and caught_up.indexed == 3 and caught_up.pending == 0
    assert sorted(doc for _, doc, _ in stub.sent) == sorted(str(i) for i in ids)


def test_a_poison_document_is_retried_then_parked_and_never_blocks_the_rest(db_url, conn):
    good_a, poison, good_b = _transactions(conn)
    stub = StubES(poison={str(poison)})

    reports = [run_search_sync(client=stub) for _ in range(MAX_ATTEMPTS)]

    assert reports[0].indexed == 2 and reports[0].retried == 1 and reports[0].parked == []
    assert {str(good_a), str(good_b)} <= set(stub.versions)
    assert reports[-1].parked == [
        {
            "outbox_id": reports[-1].parked[0]["outbox_id"],
            "aggregate_id": str(poison),
            "error": "400 mapper_parsing_exception: bad field",
        }
    ]
    (row,) = _pending(conn)
    assert row["aggregate_id"] == poison and row["attempts"] == MAX_ATTEMPTS and row["parked_at"] is not None
    assert row["last_error"].startswith("400 mapper_parsing_exception")
    assert run_search_sync(client=stub).pending == 0  # parked rows are no longer pending


def test_the_newest_change_wins_and_deletes_become_deletes(db_url, conn):
    kept, gone = _transactions(conn, 2)
    outbox.record_changes(conn, aggregate_type="transaction", ids=[kept])  # a second change of the same row
    conn.execute("DELETE FROM transactions WHERE id = %s", (gone,))
    outbox.record_changes(conn, aggregate_type="transaction", ids=[gone], operation="delete")
    newest = {
        r["aggregate_id"]: r["id"] for r in conn.execute("SELECT aggregate_id, max(id) AS id FROM outbox GROUP BY 1")
    }
    stub = StubES()

    report = run_search_sync(client=stub)

    assert sorted(stub.sent) == sorted([("index", str(kept), newest[kept]), ("delete", str(gone), newest[gone])])
    assert (report.indexed, report.deleted, report.superseded) == (1, 1, 2)
    stub.versions[str(kept)] = 10**9  # something newer already indexed: a late replay is refused, not an error
    outbox.record_changes(conn, aggregate_type="transaction", ids=[kept])
    late = run_search_sync(client=stub)
    assert late.conflicts == 1 and late.pending == 0 and late.parked == []


def test_two_concurrent_runs_neither_double_work_nor_reorder(db_url, conn):
    ids = _transactions(conn, 12)
    stub = StubES(delay=0.2)
    reports = []

    threads = [
        threading.Thread(target=lambda: reports.append(run_search_sync(client=stub, batch_size=4))) for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(doc for _, doc, _ in stub.sent) == sorted(str(i) for i in ids)  # each once
    versions = [v for _, _, v in stub.sent]
    assert versions == sorted(versions)  # outbox order
    assert sum(r.indexed for r in reports) == 12
    assert any(r.busy for r in reports) or min(r.indexed for r in reports) == 0


def test_dry_run_changes_nothing(db_url, conn):
    _transactions(conn, 2)
    stub = StubES()

    report = run_search_sync(client=stub, dry_run=True)

    assert report.indexed == 2 and stub.sent == [] and len(_pending(conn)) == 2


def test_the_cli_runs_search_sync_and_refuses_search_init_without_a_cluster(db_url, conn, capsys):
    _transactions(conn, 1)
    assert main(["run", "search-sync"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["job"] == "search-sync" and out["report"]["engine"] == "postgres"
    assert main(["search", "init"]) == 2
    assert "ELASTICSEARCH_URL is not set" in capsys.readouterr().err


def test_health_reports_a_configured_cluster_that_does_not_answer_as_down(client, es_at):
    es_at(f"http://127.0.0.1:{_closed_port()}")
    body = json.loads(client.http.get("/health").body)
    assert body["dependencies"]["elasticsearch"] == "down" and body["status"] == "degraded"


def test_search_falls_back_to_postgres_when_the_cluster_is_down(client, conn, make_user, es_at):
    user = make_user()
    account = factories.make_account(conn, user["id"])
    factories.make_transaction(conn, user["id"], account, "-3.00", description="Bakery")
    es_at(f"http://127.0.0.1:{_closed_port()}")

    body = json.loads(client.http.get("/search/transactions?q=bakery", headers=user["headers"]).body)

    assert body["engine"] == "postgres" and body["total"] == 1


# --- a transaction set: one outbox entry for the rows an import added (sql/1321)


def _as_set(conn, ids) -> int:
    """One transaction_set entry for `ids`, written as the import's INSERT writes it."""
    query = sql.SQL("WITH inserted AS (SELECT unnest(%s::uuid[]) AS id) {} RETURNING id").format(
        outbox.set_upsert_of(sql.Identifier("inserted"), set_id=sql.Literal(str(uuid4())))
    )
    return conn.execute(query, (ids,)).fetchone()["id"]


def _set_ids(conn, count):
    ids = _transactions(conn, count)
    conn.execute("DELETE FROM outbox")
    return ids


def test_a_set_is_sent_in_batches_in_order_each_document_once_under_the_sets_id(db_url, conn):
    *ids, after = _set_ids(conn, 11)
    set_id = _as_set(conn, ids)
    outbox.record_changes(conn, aggregate_type="transaction", ids=[after])  # a plain change queued after the set
    stub = StubES()

    report = run_search_sync(client=stub, batch_size=4)

    assert stub.sent == [("index", str(i), set_id) for i in ids] + [("index", str(after), set_id + 1)]
    assert report.indexed == 11 and report.batches == 3 and report.pending == 0
    assert conn.execute(
        "SELECT ids_sent, processed_at IS NOT NULL AS done FROM outbox WHERE id = %s", (set_id,)
    ).fetchone() == {
        "ids_sent": 10,
        "done": True,
    }


def test_a_newer_change_of_a_set_document_wins_and_a_gone_one_becomes_a_delete(db_url, conn):
    changed, gone, plain = _set_ids(conn, 3)
    set_id = _as_set(conn, [changed, gone, plain])
    outbox.record_changes(conn, aggregate_type="transaction", ids=[changed])
    conn.execute("DELETE FROM transactions WHERE id = %s", (gone,))
    stub = StubES()

    report = run_search_sync(client=stub, batch_size=2)  # the set's first two ids, then the rest

    assert ("index", str(changed), set_id) in stub.sent  # sent before the newer change was reached
    assert stub.versions[str(changed)] == set_id + 1
    assert ("delete", str(gone), set_id) in stub.sent
    assert stub.versions[str(plain)] == set_id
    assert report.pending == 0 and report.parked == []


def test_a_poison_document_of_a_set_retries_and_parks_alone_and_the_set_moves_on(db_url, conn):
    good_a, poison, good_b = _set_ids(conn, 3)
    set_id = _as_set(conn, [good_a, poison, good_b])
    stub = StubES(poison={str(poison)})

    reports = [run_search_sync(client=stub) for _ in range(MAX_ATTEMPTS)]

    assert reports[0].indexed == 2 and reports[0].retried == 1
    assert {str(good_a), str(good_b)} <= set(stub.versions)
    assert [p["aggregate_id"] for p in reports[-1].parked] == [str(poison)]
    (row,) = _pending(conn)
    assert row["aggregate_id"] == poison and row["attempts"] == MAX_ATTEMPTS and row["parked_at"] is not None
    assert conn.execute("SELECT processed_at FROM outbox WHERE id = %s", (set_id,)).fetchone()["processed_at"]
    assert next(v for _, doc, v in stub.sent if doc == str(poison)) == set_id


def test_a_set_document_met_with_429_is_sent_again_and_nothing_is_lost(db_url, conn):
    ids = _set_ids(conn, 4)
    set_id = _as_set(conn, ids)
    stub = StubES(busy_once={str(ids[1])})

    first = run_search_sync(client=stub)

    assert first.error and "429" in first.error
    assert conn.execute("SELECT ids_sent FROM outbox WHERE id = %s", (set_id,)).fetchone()["ids_sent"] == 0
    second = run_search_sync(client=stub)
    assert second.error is None and second.pending == 0 and second.conflicts == 3
    assert {doc: v for doc, v in stub.versions.items()} == {str(i): set_id for i in ids}


def test_a_dry_run_counts_a_set_and_changes_nothing(db_url, conn):
    ids = _set_ids(conn, 3)
    set_id = _as_set(conn, ids)
    stub = StubES()

    report = run_search_sync(client=stub, dry_run=True)

    assert report.indexed == 3 and stub.sent == []
    assert conn.execute("SELECT ids_sent, processed_at FROM outbox WHERE id = %s", (set_id,)).fetchone() == {
        "ids_sent": 0,
        "processed_at": None,
    }


def test_on_the_postgres_engine_a_set_is_marked_processed(db_url, conn):
    _as_set(conn, _set_ids(conn, 3))

    report = run_search_sync()

    assert report.marked_processed == 1 and report.pending == 0


def test_a_requeued_set_is_sent_again_from_its_first_id(db_url, conn):
    ids = _set_ids(conn, 3)
    set_id = _as_set(conn, ids)
    run_search_sync(client=StubES())

    assert search_repo.requeue_after(conn, set_id - 1) == 1

    stub = StubES()
    run_search_sync(client=stub)
    assert [doc for _, doc, _ in stub.sent] == [str(i) for i in ids]


def test_two_concurrent_runs_send_a_set_once_and_in_order(db_url, conn):
    ids = _set_ids(conn, 9)
    _as_set(conn, ids)
    stub = StubES(delay=0.2)
    reports = []

    threads = [
        threading.Thread(target=lambda: reports.append(run_search_sync(client=stub, batch_size=4))) for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert [doc for _, doc, _ in stub.sent] == [str(i) for i in ids]
    assert sum(r.indexed for r in reports) == 9
