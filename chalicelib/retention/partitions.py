"""The `partitions` upkeep: monthly partitions of `transactions` exist ahead of time."""

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime

from chalicelib.infra import db
from chalicelib.infra.logging import logger

MONTHS_AHEAD = 3
MONTHS_BEHIND = 24


@dataclass
class PartitionsReport:
    partitions_created: int
    months_ahead: int
    rows_in_default_partition: int
    dry_run: bool


def _shift_month(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def ensure_partitions(*, dry_run: bool = False, today: date | None = None) -> PartitionsReport:
    """Create any missing monthly partitions from MONTHS_BEHIND back to MONTHS_AHEAD ahead."""
    today = today or datetime.now(UTC).date()
    first = _shift_month(today, -MONTHS_BEHIND)
    last = _shift_month(today, MONTHS_AHEAD)
    with db.transaction() as conn:
        # Serialises concurrent runs: partition DDL from two runs at once would collide.
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('partitions', 0))")
        if dry_run:
            missing = conn.execute(
                """SELECT count(*) AS n FROM generate_series(%s::date, %s::date, interval '1 month') m
                    WHERE to_regclass(transaction_partition_name(m::date)) IS NULL""",
                (first, last),
            ).fetchone()["n"]
            created = 0
        else:
            created = conn.execute("SELECT ensure_transaction_partitions(%s, %s) AS n", (first, last)).fetchone()["n"]
            missing = created
        in_default = conn.execute("SELECT count(*) AS n FROM transactions_default").fetchone()["n"]
    report = PartitionsReport(
        partitions_created=created if not dry_run else missing,
        months_ahead=MONTHS_AHEAD,
        rows_in_default_partition=in_default,
        dry_run=dry_run,
    )
    logger.info("partitions run", extra={"report": asdict(report)})
    return report
