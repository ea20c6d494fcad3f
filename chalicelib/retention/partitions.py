"""The `partitions` upkeep: every month from the archive boundary to MONTHS_AHEAD ahead has
its own partition of `transactions`, and rows that landed in the default partition are
moved into one.

A month gets its partition the same way whether or not rows wait for it in the default
partition: a standalone table, the month's rows moved into it straight out of
`transactions_default` (not through the parent, so no balance trigger fires), then ATTACH.
One transaction per month: a run killed half-way leaves whole months done and the rest
untouched; re-running finds the done months covered and skips them."""

import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime

import psycopg

from chalicelib.core.dates import month_start, shift_month
from chalicelib.infra import db
from chalicelib.infra.logging import logger
from chalicelib.retention import repo
from chalicelib.retention.units import LockNotAvailable, archive_before, upkeep_unit

MONTHS_AHEAD = 3


@dataclass
class PartitionsReport:
    first_month: date
    last_month: date
    partitions_created: int
    rows_moved_from_default: int
    months_deferred: int
    months_ahead: int
    rows_in_default_partition: int
    dry_run: bool
    seconds: float


def give_month_its_partition(conn: psycopg.Connection, month: date) -> int | None:
    """Create `month`'s partition of `transactions` holding the month's rows from the default
    partition; the number of rows moved, or None when a partition already covers the month."""
    if repo.covering_partition(conn, repo.LIVE, month) is not None:
        return None
    name = repo.partition_name(repo.LIVE, month)
    end = shift_month(month, 1)
    repo.create_standalone(conn, name, like=repo.LIVE)
    # On the still-empty table the CHECK costs nothing, and ATTACH then skips its scan.
    repo.add_range_check(conn, name, month, end, valid=True)
    default = repo.default_partition_of(conn, repo.LIVE)
    moved = repo.move_rows(conn, source=default, target=name, month=month) if default else 0
    repo.attach(conn, parent=repo.LIVE, table=name, start=month, end=end)
    return moved


def _months(first: date, last: date) -> list[date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = shift_month(month, 1)
    return months


def ensure_partitions(*, dry_run: bool = False, today: date | None = None) -> PartitionsReport:
    """Partitions from the archive boundary to MONTHS_AHEAD ahead; default-partition rows moved."""
    started = time.monotonic()
    today = today or datetime.now(UTC).date()
    first = archive_before(today)
    last = shift_month(month_start(today), MONTHS_AHEAD)
    with db.transaction() as conn:
        covered = repo.partitions_of(conn, repo.LIVE)
        waiting = dict(repo.default_months(conn, since=first))
    wanted = set(_months(first, last)) | set(waiting)
    missing = sorted(m for m in wanted if not any(p.start <= m < p.end for p in covered))
    created = moved = deferred = 0
    if dry_run:
        created, moved = len(missing), sum(waiting.get(m, 0) for m in missing)
    for month in [] if dry_run else missing:
        try:
            with upkeep_unit("partitions", ddl=True) as conn:
                rows = give_month_its_partition(conn, month)
        except LockNotAvailable:
            deferred += 1
            logger.warning("partition left for the next run: lock not available", extra={"month": str(month)})
            continue
        if rows is not None:
            created += 1
            moved += rows
    with db.transaction() as conn:
        default = repo.default_partition_of(conn, repo.LIVE)
        in_default = repo.count_rows(conn, default) if default else 0
    report = PartitionsReport(
        first_month=first,
        last_month=last,
        partitions_created=created,
        rows_moved_from_default=moved,
        months_deferred=deferred,
        months_ahead=MONTHS_AHEAD,
        rows_in_default_partition=in_default,
        dry_run=dry_run,
        seconds=round(time.monotonic() - started, 3),
    )
    logger.info("partitions run", extra={"report": asdict(report)})
    return report
