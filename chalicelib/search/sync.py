"""`search-sync`: drain the outbox into Elasticsearch (every minute, `fiscaflow run search-sync`).

Per batch, in one database transaction: take the drain lock (a transaction-level
advisory lock, safe behind PgBouncer's transaction pooling; a second concurrent run
finds it taken and ends at once, so runs neither double-work nor reorder), lock the
oldest pending rows in id order, read each document's CURRENT row from PostgreSQL
(a row that is gone becomes a delete), and send one bulk request versioned
externally by the newest outbox id of each document. An older version arriving late
is refused by Elasticsearch (409), which is success: something newer is there.

An import queues its rows as ONE entry, a transaction set (sql/1321), not a row each:
a batch takes as many of the set's ids as it has room for, sends them versioned by the
set's id, and notes how many are sent (ids_sent) in the same transaction; the batch ends
at a set it could not finish, so documents still go out in outbox order. A document of
a set that Elasticsearch refuses is queued again as a plain entry of its own (retried,
then parked, alone); a 429/5xx sends the same slice again on the next run.

Elasticsearch down or slow: the bulk call fails as a whole, nothing is marked, the
run ends cleanly and the next one catches up. A document Elasticsearch refuses (a
4xx on its item) is retried on later runs and parked after MAX_ATTEMPTS with its
error; it never blocks the rest of the batch.

Every run first builds the search postings that deferred bulk writes owe (sql/1301,
chalicelib/search/postings.py): the PostgreSQL engine answers exactly without them, only
slower, and it is the fallback whenever the cluster is down, so they are built whichever
engine serves. Beyond that, on the PostgreSQL engine there is nothing to index.
The run marks pending rows processed so the outbox does not grow for ever; when a
cluster is configured later, `fiscaflow search reindex` builds the index from the
tables themselves (the source of truth), so those rows are not needed to catch up.
Processed rows are purged after PURGE_AFTER_DAYS either way.
"""

import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

from chalicelib.infra import db, es_client
from chalicelib.infra.logging import logger
from chalicelib.infra.outbox import TRANSACTION_SET
from chalicelib.search import es_bodies, postings, repo

MAX_ATTEMPTS = 3
BATCH_SIZE = 500
TIME_BUDGET_SECONDS = 45.0  # the schedule fires every 60 s
PURGE_AFTER_DAYS = 7
DRAIN_LOCK = "search-sync"


@dataclass
class SyncReport:
    engine: str
    dry_run: bool = False
    batches: int = 0
    indexed: int = 0
    deleted: int = 0
    superseded: int = 0
    conflicts: int = 0
    retried: int = 0
    parked: list[dict[str, Any]] = field(default_factory=list)
    postings_rows: int = 0
    marked_processed: int = 0
    purged: int = 0
    pending: int = 0
    busy: bool = False
    error: str | None = None


def run_search_sync(
    *, dry_run: bool = False, client: Any = None, batch_size: int = BATCH_SIZE, time_budget: float = TIME_BUDGET_SECONDS
) -> SyncReport:
    """Build owed search postings, then drain the outbox (Elasticsearch) or mark it processed (PostgreSQL engine)."""
    deadline = time.monotonic() + time_budget  # shared by the postings and the drain
    owed = None if dry_run else postings.index_backlog(time_budget=time_budget)
    if client is None and not es_client.configured():
        report = _mark_processed(dry_run=dry_run)
    else:
        report = SyncReport(engine="elasticsearch", dry_run=dry_run)
        while time.monotonic() < deadline:
            if not _drain_batch(report, client or es_client.client(), batch_size, dry_run):
                break
    report.postings_rows = owed.rows if owed else 0
    with db.transaction() as conn:
        if not dry_run:
            report.purged = repo.purge_processed(conn, older_than_days=PURGE_AFTER_DAYS)
        report.pending = repo.count_pending(conn)
    logger.info("search-sync run", extra={"report": report.__dict__})
    return report


def _take_lock(conn: psycopg.Connection) -> bool:
    return repo.take_drain_lock(conn, DRAIN_LOCK)


def _mark_processed(*, dry_run: bool) -> SyncReport:
    report = SyncReport(engine="postgres", dry_run=dry_run)
    with db.transaction() as conn:
        if not _take_lock(conn):
            report.busy = True
            return report
        report.marked_processed = repo.count_pending(conn) if dry_run else repo.mark_all_processed(conn)
    return report


def _take_rows(conn: psycopg.Connection, batch_size: int) -> tuple[list[dict], dict[int, list], bool]:
    """The oldest pending entries, in id order, up to `batch_size` documents: a
    transaction set gives as many of its ids as the batch has room for, and the batch
    ends there when it cannot give them all (so documents still go out in outbox order).
    Returns the entries taken, each set's ids taken, and whether more is pending."""
    rows = repo.lock_pending(conn, batch_size)
    taken: list[dict] = []
    slices: dict[int, list] = {}
    room = batch_size
    for row in rows:
        if row["aggregate_type"] == TRANSACTION_SET:
            remaining = row["set_size"] - row["ids_sent"]
            count = min(room, remaining)
            slices[row["id"]] = repo.set_slice(conn, row["id"], start=row["ids_sent"], count=count) if count else []
            taken.append(row)
            room -= count
            if count < remaining:
                return taken, slices, True
        else:
            taken.append(row)
            room -= 1
        if room <= 0:
            break
    return taken, slices, len(rows) == batch_size or len(taken) < len(rows)


def _drain_batch(report: SyncReport, client: Any, batch_size: int, dry_run: bool) -> bool:
    """One batch; False when there is nothing more to do this run."""
    with db.transaction() as conn:
        if not _take_lock(conn):
            report.busy = True
            return False
        rows, slices, more = _take_rows(conn, batch_size)
        if not rows:
            return False
        latest: dict[tuple[str, str], dict] = {}
        for row in rows:  # id order: the last one seen is the newest change of its document
            if row["aggregate_type"] == TRANSACTION_SET:
                for doc_id in slices[row["id"]]:
                    latest[("transaction", str(doc_id))] = row
            else:
                latest[(row["aggregate_type"], str(row["aggregate_id"]))] = row
        superseded = [
            r["id"]
            for r in rows
            if r["aggregate_type"] != TRANSACTION_SET
            and latest[(r["aggregate_type"], str(r["aggregate_id"]))]["id"] != r["id"]
        ]
        operations = _operations(conn, latest)
        if dry_run:
            report.batches += 1
            report.indexed += sum(1 for op in operations if op[0] == "index")
            report.deleted += sum(1 for op in operations if op[0] == "delete")
            return False
        if operations:
            try:
                # require_alias: a missing alias (init not run) must fail, not auto-create an index.
                response = client.bulk(
                    operations=es_bodies.bulk_lines([op[:5] for op in operations]), require_alias=True
                )
            except es_client.unavailable_errors() as exc:
                report.error = f"elasticsearch unavailable: {type(exc).__name__}: {str(exc)[:200]}"
                logger.warning("search-sync: elasticsearch unavailable; outbox kept", extra={"error": report.error})
                return False
            response = response.body if hasattr(response, "body") else response
            items = response["items"]
        else:  # a set whose documents are all superseded in this batch
            items = []
        done, failed, held = _outcomes(report, operations, items)
        repo.mark_processed(conn, sorted({i for i in done if i not in slices}) + superseded)
        for outbox_row, doc_id, error in failed:
            if outbox_row["aggregate_type"] == TRANSACTION_SET:
                # The document retries (and parks) on its own entry; the set moves on.
                parked = MAX_ATTEMPTS <= 1
                outbox_row = repo.record_set_failure(conn, doc_id, error=error[:2000], park=parked)
                outbox_row = {"id": outbox_row["id"], "aggregate_id": outbox_row["aggregate_id"]}
            else:
                parked = outbox_row["attempts"] + 1 >= MAX_ATTEMPTS
                repo.record_failure(conn, outbox_row["id"], error=error[:2000], park=parked)
            if parked:
                report.parked.append(
                    {"outbox_id": outbox_row["id"], "aggregate_id": str(outbox_row["aggregate_id"]), "error": error}
                )
                logger.error("search-sync parked a document", extra=report.parked[-1])
            else:
                report.retried += 1
        for row in rows:
            # A set whose documents met a 429/5xx sends the same slice again next run
            # (the ones that got through then answer 409: already there).
            if row["id"] in slices and row["id"] not in held:
                repo.advance_set(conn, row["id"], sent=row["ids_sent"] + len(slices[row["id"]]))
        report.superseded += len(superseded)
        report.batches += 1
        if held:
            report.error = f"elasticsearch refused {len(held)} entry(ies) for now (429/5xx); kept for the next run"
            return False
        return more


def _operations(conn: psycopg.Connection, latest: dict[tuple[str, str], dict]) -> list[tuple]:
    """(action, index, id, version, document, outbox row) per document, newest change each."""
    ids = {kind: [i for (k, i) in latest if k == kind] for kind in ("transaction", "category")}
    current: dict[tuple[str, str], dict] = {}
    if ids["transaction"]:
        for row in repo.transactions_by_id(conn, ids["transaction"]):
            current[("transaction", str(row["id"]))] = es_bodies.transaction_document(row)
    if ids["category"]:
        for row in repo.categories_by_id(conn, ids["category"]):
            current[("category", str(row["id"]))] = es_bodies.category_document(row)
    operations = []
    for key, outbox_row in latest.items():
        kind, doc_id = key
        index = es_client.alias("transactions" if kind == "transaction" else "categories")
        document = current.get(key)
        action = "index" if document is not None else "delete"
        operations.append((action, index, doc_id, outbox_row["id"], document, outbox_row))
    return operations


def _outcomes(report: SyncReport, operations: list[tuple], items: list[dict]):
    """The outbox ids whose document is done; (outbox row, document id, error) of each
    refused document; the outbox ids with a document to send again later (429/5xx)."""
    done: list[int] = []
    failed: list[tuple[dict, str, str]] = []
    held: set[int] = set()
    for operation, item in zip(operations, items, strict=True):
        action, doc_id, outbox_row = operation[0], operation[2], operation[5]
        result = item[action]
        status = result.get("status", 500)
        if 200 <= status < 300 or (action == "delete" and status == 404):
            done.append(outbox_row["id"])
            if action == "index":
                report.indexed += 1
            else:
                report.deleted += 1
        elif status == 409:  # a newer version is already indexed
            done.append(outbox_row["id"])
            report.conflicts += 1
        elif status == 429 or status >= 500 or (result.get("error") or {}).get("type") == "index_not_found_exception":
            held.add(outbox_row["id"])
        else:
            error = result.get("error") or {}
            failed.append((outbox_row, doc_id, f"{status} {error.get('type', '')}: {error.get('reason', '')}".strip()))
    return done, failed, held
