"""`search-sync`: drain the outbox into Elasticsearch (every minute, `fiscaflow run search-sync`).

Per batch, in one database transaction: take the drain lock (a transaction-level
advisory lock, safe behind PgBouncer's transaction pooling; a second concurrent run
finds it taken and ends at once, so runs neither double-work nor reorder), lock the
oldest pending rows in id order, read each document's CURRENT row from PostgreSQL
(a row that is gone becomes a delete), and send one bulk request versioned
externally by the newest outbox id of each document. An older version arriving late
is refused by Elasticsearch (409), which is success: something newer is there.

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


def _drain_batch(report: SyncReport, client: Any, batch_size: int, dry_run: bool) -> bool:
    """One batch; False when there is nothing more to do this run."""
    with db.transaction() as conn:
        if not _take_lock(conn):
            report.busy = True
            return False
        rows = repo.lock_pending(conn, batch_size)
        if not rows:
            return False
        latest: dict[tuple[str, str], dict] = {}
        for row in rows:  # id order: the last one seen is the newest change of its document
            latest[(row["aggregate_type"], str(row["aggregate_id"]))] = row
        superseded = [r["id"] for r in rows if latest[(r["aggregate_type"], str(r["aggregate_id"]))]["id"] != r["id"]]
        operations = _operations(conn, latest)
        if dry_run:
            report.batches += 1
            report.indexed += sum(1 for op in operations if op[0] == "index")
            report.deleted += sum(1 for op in operations if op[0] == "delete")
            return False
        try:
            # require_alias: a missing alias (init not run) must fail, not auto-create an index.
            response = client.bulk(operations=es_bodies.bulk_lines([op[:5] for op in operations]), require_alias=True)
        except es_client.unavailable_errors() as exc:
            report.error = f"elasticsearch unavailable: {type(exc).__name__}: {str(exc)[:200]}"
            logger.warning("search-sync: elasticsearch unavailable; outbox kept", extra={"error": report.error})
            return False
        response = response.body if hasattr(response, "body") else response
        done, failed, transient = _outcomes(report, operations, response["items"])
        repo.mark_processed(conn, done + superseded)
        for outbox_row, error in failed:
            parked = outbox_row["attempts"] + 1 >= MAX_ATTEMPTS
            repo.record_failure(conn, outbox_row["id"], error=error[:2000], park=parked)
            if parked:
                report.parked.append(
                    {"outbox_id": outbox_row["id"], "aggregate_id": str(outbox_row["aggregate_id"]), "error": error}
                )
                logger.error("search-sync parked a document", extra=report.parked[-1])
            else:
                report.retried += 1
        report.superseded += len(superseded)
        report.batches += 1
        if transient:
            report.error = f"elasticsearch refused {transient} document(s) for now (429/5xx); kept for the next run"
            return False
        return len(rows) == batch_size


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
    done: list[int] = []
    failed: list[tuple[dict, str]] = []
    transient = 0
    for operation, item in zip(operations, items, strict=True):
        action, outbox_row = operation[0], operation[5]
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
            transient += 1
        else:
            error = result.get("error") or {}
            failed.append((outbox_row, f"{status} {error.get('type', '')}: {error.get('reason', '')}".strip()))
    return done, failed, transient
