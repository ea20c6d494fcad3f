"""The upkeep of statement imports: an import still in_progress long after it started
was stopped by something that could not record it (the Lambda timed out or was killed,
the database was unreachable on every retry). It is failed, and its owner told, so that
nobody waits on it forever; a late delivery of its file may still finish it
(repo.open_log_for)."""

from dataclasses import dataclass, field

from chalicelib.audit.service import record_audit
from chalicelib.core.actor import Actor
from chalicelib.imports import outcomes, repo
from chalicelib.infra import db
from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings

ACTOR = Actor.system("schedule:import-sweep")
STALE_MESSAGE = (
    "The import did not finish within {minutes} minutes and was stopped; nothing was imported. Confirm it to try again"
)


@dataclass
class SweepReport:
    dry_run: bool
    older_than_minutes: int
    failed: int = 0
    import_ids: list[str] = field(default_factory=list)


def run_import_sweep(*, dry_run: bool = False) -> SweepReport:
    """Fail every import in_progress for longer than the settings allow, with the failure notification."""
    minutes = get_settings().import_stale_minutes
    report = SweepReport(dry_run=dry_run, older_than_minutes=minutes)
    message = STALE_MESSAGE.format(minutes=minutes)
    with db.transaction() as conn:
        if dry_run:
            stale = repo.find_stale_imports(conn, older_than_minutes=minutes)
            return SweepReport(dry_run, minutes, len(stale), [str(r["id"]) for r in stale])
        stale = repo.fail_stale_imports(conn, older_than_minutes=minutes, message=message)
        for row in stale:
            outcomes.notify_failed(conn, key=row["file_key"], user_id=row["user_id"], log_id=row["id"], message=message)
            record_audit(
                conn,
                actor=ACTOR,
                action="import.failed",
                resource_type="import",
                resource_id=row["id"],
                user_id=row["user_id"],
                data={"file_key": row["file_key"], "error_code": "stale", "started_at": row["started_at"]},
                success=False,
                error_message=message,
            )
        report.failed = len(stale)
        report.import_ids = [str(r["id"]) for r in stale]
    if stale:
        logger.warning("stale imports failed", extra={"count": len(stale), "import_ids": report.import_ids})
    return report
