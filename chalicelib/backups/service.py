"""The daily `backup` run: one consistent logical dump streamed to
backups/database/{date}_{time}.sql.gz, then all but the newest `backup_keep` pruned."""

import io
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from chalicelib.backups.dump import dump_lines, dumped_tables, gzip_chunks
from chalicelib.infra import db, storage
from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings

PREFIX = "backups/database/"
_KEY = re.compile(r"^backups/database/\d{4}-\d{2}-\d{2}_\d{6}(_\d{6})?\.sql\.gz$")
LOCK = "fiscaflow:backup"


@dataclass
class BackupReport:
    dry_run: bool
    key: str | None = None
    skipped: str | None = None
    tables: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    bytes_written: int = 0
    pruned: list[str] = field(default_factory=list)
    kept: int = 0
    seconds: float = 0.0


class _ChunkReader(io.RawIOBase):
    """A readable file over an iterator of byte chunks: lets the minio client pull the gzip
    stream part by part (multipart upload of unknown length), never the whole dump in memory."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._pending = memoryview(b"")
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            try:
                self._pending = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        self.total += n
        return n


def backup_key(now: datetime) -> str:
    return f"{PREFIX}{now:%Y-%m-%d}_{now:%H%M%S}_{now:%f}.sql.gz"


def backup_keys() -> list[str]:
    """Backups in the bucket, oldest first (the names sort by time)."""
    return sorted(k for k in storage.list_keys(PREFIX) if _KEY.match(k))


def _snapshot_connection() -> psycopg.Connection:
    conn = db.connect(autocommit=False)
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    return conn


def prune_oldest(keys: list[str], *, keep: int, dry_run: bool, companion=None) -> tuple[list[str], int]:
    """Delete all but the newest `keep` of `keys` (sorted oldest first), and each one's
    `companion` key if it has one (a files backup's manifest); (deleted, kept)."""
    doomed = keys[: max(len(keys) - keep, 0)]
    if not dry_run:
        for key in doomed:
            storage.delete(key)
            if companion is not None:
                storage.delete(companion(key))
    return doomed, len(keys) - len(doomed)


def prune(*, keep: int, dry_run: bool) -> tuple[list[str], int]:
    return prune_oldest(backup_keys(), keep=keep, dry_run=dry_run)


def run_backup(
    *, dry_run: bool = False, now: datetime | None = None, after_table: Callable[[str], None] | None = None
) -> BackupReport:
    """Dump the database from one snapshot to storage, then keep the newest `backup_keep`."""
    started = time.monotonic()
    now = now or datetime.now(UTC)
    keep = get_settings().backup_keep
    report = BackupReport(dry_run=dry_run)
    with _snapshot_connection() as conn:
        locked = conn.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", (LOCK,)).fetchone()[0]
        if not locked:
            # The other run's snapshot is as good as ours; two dumps would only double the load.
            report.skipped = "another backup is running"
            logger.info("backup skipped", extra={"report": asdict(report)})
            return report
        if dry_run:
            tables = dumped_tables(conn)
            report.tables = len(tables)
            report.rows = {
                t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("public", t))).fetchone()[0]
                for t in tables
            }
            report.key = backup_key(now)
        else:
            report.key = backup_key(now)
            stream = _ChunkReader(
                gzip_chunks(dump_lines(conn, created_at=now, after_table=after_table, counts=report.rows))
            )
            # The object appears only when the multipart upload completes: a run killed
            # half-way leaves no partial backup (an S3 lifecycle rule aborts the parts).
            storage.put_stream(report.key, io.BufferedReader(stream), content_type="application/gzip")
            report.bytes_written = stream.total
            report.tables = len(report.rows)
        conn.rollback()
    if dry_run:
        report.pruned, report.kept = prune(keep=keep - 1, dry_run=True)
        report.kept += 1
    else:
        report.pruned, report.kept = prune(keep=keep, dry_run=False)
    report.seconds = round(time.monotonic() - started, 3)
    logger.info(
        f"backup {report.key}: {report.tables} tables, {report.bytes_written} bytes, "
        f"{len(report.pruned)} old backups pruned in {report.seconds}s",
        extra={"report": asdict(report)},
    )
    return report
