"""Index lifecycle: `fiscaflow search init` and `fiscaflow search reindex`.

Reads and writes always go through aliases (`{prefix}-transactions`, …) over
versioned indices (`{prefix}-transactions-{UTC stamp}`), so a rebuild happens beside
the live index and one atomic alias update swaps it in: searches keep answering
from the old index until then.

Reindex and the drain: the build reads a REPEATABLE READ snapshot together with the
outbox high-water mark of that snapshot and writes every document with that mark as
its external version. Changes after the snapshot have larger outbox ids; any that
the drain already sent to the old index are queued again after the swap, so the new
index ends up with the newest version of everything.
"""

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from chalicelib.infra import db, es_client
from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings
from chalicelib.search import es_bodies, repo

KINDS = ("transactions", "categories", "logs")
TO_DOCUMENT = {"transactions": es_bodies.transaction_document, "categories": es_bodies.category_document}
CHUNK = 2000


@dataclass
class IndexReport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    documents: dict[str, int] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    requeued: int = 0
    seconds: float = 0.0


def _new_index_name(kind: str) -> str:
    return f"{es_client.alias(kind)}-{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}"


def _create(client: Any, kind: str, name: str, *, with_alias: bool) -> None:
    spec = es_bodies.index_spec(kind, get_settings().search_flavour)
    aliases = {es_client.alias(kind): {"is_write_index": True}} if with_alias else None
    client.indices.create(index=name, settings=spec["settings"], mappings=spec["mappings"], aliases=aliases)


def init(client: Any = None) -> IndexReport:
    """Create each index behind its alias unless the alias exists (idempotent)."""
    client = client or es_client.client()
    report = IndexReport()
    for kind in KINDS:
        alias = es_client.alias(kind)
        if client.indices.exists_alias(name=alias):
            report.existing.append(alias)
            continue
        name = _new_index_name(kind)
        _create(client, kind, name, with_alias=True)
        report.created.append(name)
    return report


def reindex(client: Any = None, *, kinds: tuple[str, ...] = ("transactions", "categories")) -> IndexReport:
    """Build new indices from PostgreSQL, then swap the aliases atomically."""
    client = client or es_client.client()
    started = time.monotonic()
    report = IndexReport()
    built: dict[str, str] = {}
    with db.connect(row_factory=dict_row) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        mark = repo.high_water_mark(conn)
        for kind in kinds:
            name = _new_index_name(kind)
            _create(client, kind, name, with_alias=False)
            report.created.append(name)
            built[kind] = name
            report.documents[kind] = _load(client, conn, kind, name, version=max(mark, 1))
            client.indices.refresh(index=name)
        conn.rollback()
    for kind, name in built.items():
        alias = es_client.alias(kind)
        old = list(client.indices.get_alias(name=alias).keys()) if client.indices.exists_alias(name=alias) else []
        actions: list[dict[str, Any]] = [{"remove": {"index": o, "alias": alias}} for o in old]
        actions.append({"add": {"index": name, "alias": alias, "is_write_index": True}})
        client.indices.update_aliases(actions=actions)
        report.removed.extend(old)
    if report.removed:
        # A search that resolved an alias just before its swap still runs on the old index:
        # dropping it at once made that search fail (and fall back to PostgreSQL). No
        # search outlives the client's timeout.
        time.sleep(get_settings().elasticsearch_timeout_seconds)
        for o in report.removed:
            client.indices.delete(index=o)
    with db.transaction() as conn:
        report.requeued = repo.requeue_after(conn, mark)
    report.seconds = round(time.monotonic() - started, 3)
    logger.info("search reindex", extra={"report": report.__dict__})
    return report


def _load(client: Any, conn: psycopg.Connection, kind: str, index: str, *, version: int) -> int:
    query, to_document = repo.REINDEX[kind], TO_DOCUMENT[kind]
    count = 0
    started = time.monotonic()
    with conn.cursor(name=f"reindex_{kind}") as cursor:
        cursor.execute(query)
        while rows := cursor.fetchmany(CHUNK):
            operations = [("index", index, str(r["id"]), version, to_document(r)) for r in rows]
            response = client.bulk(operations=es_bodies.bulk_lines(operations))
            response = response.body if hasattr(response, "body") else response
            if response.get("errors"):
                bad = [i for i in response["items"] if i["index"].get("status", 500) >= 300]
                raise RuntimeError(f"reindex of {kind} refused {len(bad)} document(s): {bad[0]['index'].get('error')}")
            count += len(rows)
            rate = count / max(time.monotonic() - started, 1e-6)
            logger.info("reindex progress", extra={"kind": kind, "documents": count, "per_second": round(rate)})
    return count
