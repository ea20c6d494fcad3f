"""The bank-sync schedule and the background sync a webhook or a person asks for."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from chalicelib.bank_sync import repo
from chalicelib.bank_sync.sync import sync_connection
from chalicelib.bank_sync.webhooks import parse_job_key
from chalicelib.infra import db
from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings


@dataclass
class BankSyncReport:
    due: int = 0
    completed: int = 0
    failed: int = 0
    busy: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    failures: list[dict] = field(default_factory=list)


def run_bank_sync(*, dry_run: bool = False) -> BankSyncReport:
    """Sync every connection whose webhooks have been silent; skip ones waiting for a
    login repair or backing off a rate limit."""
    settings = get_settings()
    report = BankSyncReport()
    if not settings.bank_sync_configured:
        logger.info("bank-sync: not configured, nothing to do")
        return report
    silent_since = datetime.now(UTC) - timedelta(hours=settings.bank_sync_silent_hours)
    with db.transaction() as conn:
        due = repo.due_for_schedule(conn, silent_since=silent_since)
    report.due = len(due)
    if dry_run:
        return report
    for connection_id in due:
        result = sync_connection(connection_id=connection_id, reason="schedule")
        report.added += result.added
        report.updated += result.updated
        report.deleted += result.deleted
        if result.status == "completed":
            report.completed += 1
        elif result.status == "busy":
            report.busy += 1
        elif result.status == "failed":
            report.failed += 1
            report.failures.append({"connection_id": str(connection_id), "error_code": result.error_code})
    return report


def handle_sync_object(*, key: str) -> str:
    """The S3 handler's whole job: a bank-sync/{connection_id}/… object becomes one sync."""
    connection_id = parse_job_key(key)
    if connection_id is None:
        logger.warning("ignoring an object that is not a bank sync job", extra={"key": key})
        return "ignored"
    return sync_connection(connection_id=connection_id, reason="background").status
