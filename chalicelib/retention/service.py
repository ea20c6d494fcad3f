"""The daily `retention` run: rows past their retention deleted in batches, transactions
older than the archive window moved to `transactions_archive` month by month, expired
export files purged."""

import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from chalicelib.infra.logging import logger
from chalicelib.retention import cleanup
from chalicelib.retention.archive import archive_old_transactions


@dataclass
class RetentionReport:
    dry_run: bool
    deleted: dict[str, int] = field(default_factory=dict)
    archive_before: date | None = None
    months_archived: int = 0
    transactions_archived: int = 0
    default_rows_archived: int = 0
    months_deferred: int = 0
    exports: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def _progress(started: float):
    done: dict[str, int] = {}

    def on_batch(table: str, deleted: int) -> None:
        done[table] = done.get(table, 0) + deleted
        if deleted:
            elapsed = max(time.monotonic() - started, 1e-6)
            logger.info(
                "retention batch",
                extra={"table": table, "rows_done": done[table], "rows_per_s": int(done[table] / elapsed)},
            )

    return on_batch


def run_retention(*, dry_run: bool = False, now: datetime | None = None, today: date | None = None) -> RetentionReport:
    """Delete what is past retention and archive old transactions; dry_run only counts."""
    started = time.monotonic()
    now = now or datetime.now(UTC)
    today = today or now.date()
    report = RetentionReport(dry_run=dry_run)
    on_batch = _progress(started)
    for expiry in cleanup.expiries():
        report.deleted[expiry.table] = (
            cleanup.count_expired(expiry, now=now)
            if dry_run
            else cleanup.delete_expired(expiry, now=now, on_batch=on_batch)
        )
    archived = archive_old_transactions(today=today, dry_run=dry_run)
    report.archive_before = archived.archive_before
    report.months_archived = archived.months_archived
    report.transactions_archived = archived.transactions_archived
    report.default_rows_archived = archived.default_rows_archived
    report.months_deferred = archived.months_deferred
    # Export files are the exports domain's rule (7 days); it runs on this schedule.
    from chalicelib.exports.expiry import purge_expired_exports

    report.exports = asdict(purge_expired_exports(dry_run=dry_run, now=now))
    report.seconds = round(time.monotonic() - started, 3)
    logger.info(
        f"retention: deleted {sum(report.deleted.values())} rows, archived {report.transactions_archived} "
        f"transactions in {report.months_archived} months ({report.months_deferred} deferred) in {report.seconds}s",
        extra={"report": asdict(report)},
    )
    return report
