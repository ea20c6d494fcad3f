"""The background half of an export: a job object's S3 event builds the file.

Exactly once per export however often the event arrives: the first delivery moves the
job from pending to in_progress in one conditional UPDATE, later ones find nothing to
claim. A failure while building ends the job `failed` with a message and leaves no
object at the result's key (a failed multipart upload is aborted; an object written
before a later failure is removed), so a new request can simply try again.
"""

import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from chalicelib.errors import DomainError
from chalicelib.exports import csv_export, repo, report_repo, totals, xlsx_export
from chalicelib.exports.columns import logical_rows
from chalicelib.exports.pdf_report import ReportHeader, build_pdf
from chalicelib.exports.report_repo import ExportScope
from chalicelib.exports.service import JOB_OBJECT, authorized_scope, file_name, get_export, job_prefix
from chalicelib.infra import db, storage
from chalicelib.infra.logging import logger
from chalicelib.live import hooks as live_hooks

PROGRESS_EVERY = 5000
_JOB_KEY = re.compile(r"^exports/(?P<user>[0-9a-f-]{36})/(?P<job>[0-9a-f-]{36})/" + re.escape(JOB_OBJECT) + "$")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


class ExportJobNotVisible(Exception):
    """The job object exists but its row does not (yet): the request's transaction may
    still be committing. Raised so the event is delivered again."""


@dataclass(frozen=True)
class BuildResult:
    rows: int
    size_bytes: int
    file_key: str


class _Progress:
    """Counts rows as they pass and publishes the count every PROGRESS_EVERY rows."""

    def __init__(self, job_id: UUID):
        self.job_id = job_id
        self.count = 0

    def track(self, rows: Iterable[tuple]) -> Iterator[tuple]:
        for row in rows:
            self.count += 1
            if self.count % PROGRESS_EVERY == 0:
                repo.record_progress(job_id=self.job_id, rows=self.count)
            yield row


def parse_job_key(key: str) -> tuple[UUID, UUID] | None:
    match = _JOB_KEY.match(key)
    if match is None:
        return None
    try:
        return UUID(match["user"]), UUID(match["job"])
    except ValueError:
        return None


def _scope(conn: psycopg.Connection, job: dict[str, Any]) -> ExportScope:
    # Checked again at build time: a member removed from the family since the request
    # must not receive its data.
    return authorized_scope(
        conn,
        user_id=job["user_id"],
        date_from=job["date_from"],
        date_to=job["date_to"],
        account_id=job["account_id"],
        family_id=job["family_id"],
        include_archived=job["include_archived"],
    )


def _build_csv(job: dict[str, Any], key: str) -> BuildResult:
    progress = _Progress(job["id"])
    with db.transaction() as conn:
        report_repo.begin_snapshot(conn)
        scope = _scope(conn, job)
        paths = report_repo.category_paths(conn, scope)
        rows = progress.track(report_repo.stream_transactions(conn, scope))
        reader = csv_export.ChunkReader(csv_export.csv_chunks(logical_rows(rows, paths)))
        storage.put_stream(key, reader, content_type=CONTENT_TYPES["csv"])
    return BuildResult(rows=progress.count, size_bytes=reader.bytes_read, file_key=key)


def _build_xlsx(job: dict[str, Any], key: str) -> BuildResult:
    progress = _Progress(job["id"])
    # Write-only openpyxl streams rows to temporary files and zips them on save; the
    # workbook goes to local disk (Lambda's /tmp) and from there to the bucket.
    with tempfile.TemporaryDirectory(prefix="fiscaflow-export-") as folder:
        path = Path(folder) / "export.xlsx"
        with db.transaction() as conn:
            report_repo.begin_snapshot(conn)
            scope = _scope(conn, job)
            sums = totals.spending_totals(conn, scope)
            paths = report_repo.category_paths(conn, scope)
            rows = progress.track(report_repo.stream_transactions(conn, scope))
            count = xlsx_export.write_xlsx(path, rows=logical_rows(rows, paths), totals=sums)
        with path.open("rb") as handle:
            storage.put_stream(key, handle, content_type=CONTENT_TYPES["xlsx"])
        size = path.stat().st_size
    return BuildResult(rows=count, size_bytes=size, file_key=key)


def _scope_label(conn: psycopg.Connection, scope: ExportScope) -> str:
    if scope.account_id is not None:
        return f"account {report_repo.account_of(conn, scope.account_id)['name']}"
    if scope.family_id is not None:
        return f"family {report_repo.family_name(conn, scope.family_id)}"
    return "all accounts you can see (your own and your families')"


def _build_pdf(job: dict[str, Any], key: str) -> BuildResult:
    with db.transaction() as conn:
        report_repo.begin_snapshot(conn)
        scope = _scope(conn, job)
        sums = totals.spending_totals(conn, scope)
        budgets = totals.budget_statuses(conn, scope)
        header = ReportHeader(
            date_from=scope.date_from,
            date_to=scope.date_to,
            prepared_for=report_repo.user_label(conn, job["user_id"]),
            scope=_scope_label(conn, scope),
            currencies=report_repo.currencies(conn, scope),
            include_archived=scope.include_archived,
            generated_at=datetime.now(UTC),
        )
    data = build_pdf(header=header, totals=sums, budgets=budgets)
    storage.put_bytes(key, data, content_type=CONTENT_TYPES["pdf"])
    return BuildResult(rows=sums.count, size_bytes=len(data), file_key=key)


_BUILDERS = {"csv": _build_csv, "xlsx": _build_xlsx, "pdf": _build_pdf}


def _public_message(exc: Exception) -> str:
    """What the job says went wrong: enough to act on, nothing internal."""
    if isinstance(exc, DomainError) and exc.status == 404:
        return "The account or family of this export is no longer accessible."
    if isinstance(exc, psycopg.Error):
        return "The database failed while reading the transactions; request the export again."
    return "File storage failed while writing the export; request the export again."


def _remove_quietly(key: str) -> None:
    try:
        storage.delete(key)
    except Exception:
        logger.exception("could not remove a failed export's object", extra={"key": key})


def _announce(user_id: UUID, job_id: UUID) -> None:
    """exports.updated, as GET /exports/{id} shows it, once its new status has committed."""
    try:
        live_hooks.export_updated(user_id=user_id, resource=get_export(user_id=user_id, export_id=job_id))
    except Exception:
        logger.exception("export status not announced", extra={"export_id": str(job_id)})


def build_export(*, user_id: UUID, job_id: UUID) -> str:
    """Claim the job and build its file; returns completed, failed or duplicate."""
    with db.transaction() as conn:
        job = repo.claim_job(conn, job_id=job_id, user_id=user_id)
        if job is None:
            status = repo.job_status(conn, job_id=job_id, user_id=user_id)
            if status is None:
                raise ExportJobNotVisible(f"no export job {job_id} for this object (yet)")
            if status == "pending":
                # The request committed the job between the claim's snapshot and this
                # read (its S3 event can outrun the commit): claim it now.
                job = repo.claim_job(conn, job_id=job_id, user_id=user_id)
            if job is None:
                logger.info("export event delivered again; already taken", extra={"export_id": str(job_id)})
                return "duplicate"
        _announce(user_id, job_id)
    key = job_prefix(user_id, job_id) + file_name(job["format"], job["date_from"], job["date_to"])
    started = time.monotonic()
    try:
        result = _BUILDERS[job["format"]](job, key)
    except Exception as exc:
        logger.exception("export failed", extra={"export_id": str(job_id), "format": job["format"]})
        repo.fail_job(job_id=job_id, message=_public_message(exc))
        _announce(user_id, job_id)
        _remove_quietly(key)
        return "failed"
    try:
        completed = repo.complete_job(
            job_id=job_id, rows=result.rows, size_bytes=result.size_bytes, file_key=result.file_key
        )
    except Exception:
        logger.exception("export built but not recorded", extra={"export_id": str(job_id)})
        completed = False
    if not completed:
        # Finished after retention or a stall check gave up on it: the file is not the result.
        _remove_quietly(key)
        repo.fail_job(job_id=job_id, message="The export could not be recorded; request it again.")
        _announce(user_id, job_id)
        return "failed"
    _announce(user_id, job_id)
    seconds = time.monotonic() - started
    logger.info(
        "export completed",
        extra={
            "export_id": str(job_id),
            "format": job["format"],
            "rows": result.rows,
            "bytes": result.size_bytes,
            "seconds": round(seconds, 3),
            "rows_per_second": round(result.rows / seconds) if seconds > 0 else None,
        },
    )
    return "completed"


def handle_job_object(*, key: str) -> str:
    """The S3 handler's whole job: a created job object becomes one build."""
    parsed = parse_job_key(key)
    if parsed is None:
        logger.warning("ignoring an object that is not an export job", extra={"key": key})
        return "ignored"
    user_id, job_id = parsed
    return build_export(user_id=user_id, job_id=job_id)
