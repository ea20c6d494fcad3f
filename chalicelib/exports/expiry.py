"""Export retention: files and job objects are deleted 7 days after the request
(API.md "Exports"). The `retention` job calls purge_expired_exports."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chalicelib.exports import repo
from chalicelib.exports.service import job_prefix
from chalicelib.infra import db, storage
from chalicelib.infra.logging import logger

KEEP_FOR = timedelta(days=7)
# A build runs within one function invocation (15 minutes at most in AWS); one still
# in_progress after this has died without reporting.
STALLED_AFTER = timedelta(hours=1)
BATCH = 500


@dataclass
class ExportPurgeReport:
    jobs_expired: int
    objects_deleted: int
    orphan_objects_deleted: int
    stalled_jobs_failed: int
    dry_run: bool


def _orphans(cutoff: datetime, known_prefixes: set[str]) -> list[str]:
    """Objects under exports/ older than the cutoff that no expiring job accounts for
    (e.g. a job object whose request rolled back)."""
    keys = []
    for obj in storage.client().list_objects(storage.bucket(), prefix="exports/", recursive=True):
        if obj.last_modified is not None and obj.last_modified < cutoff:
            prefix = obj.object_name.rsplit("/", 1)[0] + "/"
            if prefix not in known_prefixes:
                keys.append(obj.object_name)
    return keys


def purge_expired_exports(*, dry_run: bool, now: datetime | None = None) -> ExportPurgeReport:
    """Delete export files and job objects older than 7 days; dry_run only counts them."""
    now = now or datetime.now(UTC)
    cutoff = now - KEEP_FOR
    report = ExportPurgeReport(0, 0, 0, 0, dry_run)
    with db.transaction() as conn:
        report.stalled_jobs_failed = repo.fail_stalled_jobs(conn, started_before=now - STALLED_AFTER, dry_run=dry_run)
    prefixes: set[str] = set()
    after = None
    while True:
        with db.transaction() as conn:
            jobs = repo.expired_jobs(conn, before=cutoff, limit=BATCH, after=after)
            for job in jobs:
                prefix = job_prefix(job["user_id"], job["id"])
                prefixes.add(prefix)
                if dry_run:
                    report.objects_deleted += sum(1 for _ in storage.list_keys(prefix))
                else:
                    # Objects first, then the mark: a crash in between leaves the job to
                    # be purged again next run, never a marked job with files left.
                    report.objects_deleted += storage.delete_prefix(prefix)
            if jobs and not dry_run:
                repo.mark_purged(conn, job_ids=[j["id"] for j in jobs])
        report.jobs_expired += len(jobs)
        if len(jobs) < BATCH:
            break
        after = (jobs[-1]["created_at"], jobs[-1]["id"])
    orphans = _orphans(cutoff, prefixes)
    report.orphan_objects_deleted = len(orphans)
    if not dry_run:
        for key in orphans:
            storage.delete(key)
    logger.info("export retention", extra={"report": report.__dict__})
    return report
