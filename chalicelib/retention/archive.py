"""Transactions older than the archive window move to `transactions_archive`, a whole
monthly partition at a time: DETACH from `transactions`, ATTACH to the archive.

Why it leaves every balance as it is: a balance is opening balance + all non-cancelled
transactions, archived ones included, and it is maintained by statement triggers on the
parent `transactions`. DETACH/ATTACH run no DML, and rows that wait in the default
partition are moved out of that partition directly; no trigger of the parent fires.

Why it is cheap: every index of the archive is also an index of a partition of `transactions`
(sql/0501, sql/1101), so ATTACH adopts them and the live-only ones are dropped, and a validated CHECK equal
to the month's bound lets ATTACH skip its scan. The CHECK is added NOT VALID and validated
in units of their own first (validation holds no lock that stops readers or writers), so
the unit that detaches, which must hold ACCESS EXCLUSIVE on `transactions`, only changes
the catalogue. Its lock wait is bounded (retention_lock_timeout_ms): behind a long reader
the month is left for the next run instead of stalling every query queued behind it.
DETACH CONCURRENTLY was not used: it cannot share a transaction with the ATTACH, and in
between the month would be in neither table."""

from dataclasses import dataclass
from datetime import date

from chalicelib.infra import db
from chalicelib.infra.logging import logger
from chalicelib.retention import repo
from chalicelib.retention.partitions import give_month_its_partition
from chalicelib.retention.units import LockNotAvailable, archive_before, upkeep_unit

# The same lock as the `partitions` job: all DDL on the partitions of `transactions` is serialised.
JOB = "partitions"


@dataclass
class ArchiveReport:
    archive_before: date
    months_archived: int = 0
    transactions_archived: int = 0
    default_rows_archived: int = 0
    months_deferred: int = 0


def _prepare(partition: repo.Partition) -> None:
    """The validated range CHECK, in two short units (each re-checks what is done)."""
    with upkeep_unit(JOB, ddl=True) as conn:
        if repo.covering_partition(conn, repo.LIVE, partition.start) != partition:
            return
        if repo.range_check_state(conn, partition.name) is None:
            repo.add_range_check(conn, partition.name, partition.start, partition.end, valid=False)
    with upkeep_unit(JOB) as conn:
        if repo.covering_partition(conn, repo.LIVE, partition.start) != partition:
            return
        if repo.range_check_state(conn, partition.name) is False:
            repo.validate_range_check(conn, partition.name)


def _move(partition: repo.Partition) -> int | None:
    """Detach the month from `transactions` and attach it to the archive, in one transaction;
    the rows moved, or None when another run already moved it."""
    with upkeep_unit(JOB, ddl=True) as conn:
        if repo.covering_partition(conn, repo.LIVE, partition.start) != partition:
            return None
        repo.lock_share(conn, partition.name)
        rows = repo.count_rows(conn, partition.name)
        repo.detach(conn, parent=repo.LIVE, table=partition.name)
        # No trigger saw the rows leave `transactions`: the analytics roll-up forgets the month
        # here, and search drops the month's postings (sql/1301; archived rows are not searched).
        repo.forget_monthly_totals(conn, start=partition.start, end=partition.end)
        repo.forget_search_postings(conn, partition.name)
        existing = repo.covering_partition(conn, repo.ARCHIVE, partition.start)
        if existing is not None:
            # The archive already holds this month (rows archived from the default partition
            # after an earlier move, or a restore): add these rows to it instead.
            repo.move_rows(conn, source=partition.name, target=existing.name, month=partition.start)
            repo.drop(conn, partition.name)
            return rows
        archive_default = repo.default_partition_of(conn, repo.ARCHIVE)
        if archive_default:
            # ATTACH refuses while the archive's default partition holds rows of the month.
            repo.move_rows(conn, source=archive_default, target=partition.name, month=partition.start)
        repo.attach(conn, parent=repo.ARCHIVE, table=partition.name, start=partition.start, end=partition.end)
        # The live indexes the archive has no use for (sql/1101): dropping them is a catalogue
        # change on a table this unit already holds exclusively.
        repo.drop_unattached_indexes(conn, partition.name)
        repo.rename(conn, partition.name, repo.partition_name(repo.ARCHIVE, partition.start))
        return rows


def archive_old_transactions(*, today: date, dry_run: bool) -> ArchiveReport:
    """Move every month older than the archive window into `transactions_archive`."""
    report = ArchiveReport(archive_before=archive_before(today))
    with db.transaction() as conn:
        waiting = repo.default_months(conn, before=report.archive_before)
        old = [p for p in repo.partitions_of(conn, repo.LIVE) if p.end <= report.archive_before]
        if dry_run:
            report.default_rows_archived = sum(n for _, n in waiting)
            report.months_archived = len(old) + len(waiting)
            report.transactions_archived = report.default_rows_archived + sum(
                repo.count_rows(conn, p.name) for p in old
            )
            return report
    # Old rows in the default partition first get a month partition of their own, then
    # travel like any other month.
    for month, _ in waiting:
        try:
            with upkeep_unit(JOB, ddl=True) as conn:
                moved = give_month_its_partition(conn, month)
        except LockNotAvailable:
            report.months_deferred += 1
            continue
        report.default_rows_archived += moved or 0
    with db.transaction() as conn:
        old = [p for p in repo.partitions_of(conn, repo.LIVE) if p.end <= report.archive_before]
    for partition in old:
        try:
            _prepare(partition)
            rows = _move(partition)
        except LockNotAvailable:
            report.months_deferred += 1
            logger.warning("month left for the next run: lock not available", extra={"partition": partition.name})
            continue
        if rows is not None:
            report.months_archived += 1
            report.transactions_archived += rows
            logger.info("month archived", extra={"partition": partition.name, "rows": rows})
    return report
