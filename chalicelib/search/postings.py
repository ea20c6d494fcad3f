"""The postings a deferred bulk write owes (sql/1301), built after it committed.

An import's write transaction sets `fiscaflow.search_deferred` (SET LOCAL): its INSERTs
record one search_backlog entry per statement and scope instead of writing postings, and
search matches those rows through the heap meanwhile. `index_backlog()` is the one call
that pays what is owed: entries oldest first, each built set-based from the rows as they
are now and removed in one transaction of its own (a crash loses nothing; two runs take
different entries). The `search-sync` schedule runs it every minute, and so does
`fiscaflow run search-sync`; an import may call it right after committing."""

import time
from dataclasses import dataclass

from chalicelib.infra import db
from chalicelib.infra.logging import logger
from chalicelib.search import repo


@dataclass
class BacklogReport:
    entries: int = 0
    rows: int = 0
    postings: int = 0
    seconds: float = 0.0
    pending: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def index_backlog(*, time_budget: float | None = None) -> BacklogReport:
    """Build every posting owed now (or until `time_budget` seconds have passed)."""
    report = BacklogReport()
    started = time.monotonic()
    while time_budget is None or time.monotonic() - started < time_budget:
        with db.transaction() as conn:
            entry = repo.take_backlog_entry(conn)
            if entry is None:
                break
            report.postings += repo.index_backlog_entry(conn, entry["id"])
        report.entries += 1
        report.rows += entry["rows"]
        elapsed = time.monotonic() - started
        logger.info(
            "search postings built",
            extra={"entry": entry["id"], "rows": report.rows, "rows_per_second": round(report.rows / elapsed)},
        )
    report.seconds = round(time.monotonic() - started, 3)
    with db.transaction() as conn:
        report.pending = repo.count_backlog(conn)
    return report
