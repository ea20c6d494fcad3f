"""Export use cases seen from the API: ask for an export, list them, read one.

The request only records the job and drops its job object in the bucket; the file is
built by chalicelib/exports/builder.py when the object's S3 event arrives.
"""

import json
from datetime import date
from typing import Any
from uuid import UUID

import psycopg

from chalicelib.audit.service import record_audit
from chalicelib.core import paging
from chalicelib.core.actor import Actor
from chalicelib.errors import NotFound, ServiceUnavailable, ValidationFailed
from chalicelib.exports import repo, report_repo
from chalicelib.exports.models import ExportCreate
from chalicelib.exports.report_repo import ExportScope
from chalicelib.families.access import READ, load_access
from chalicelib.infra import db, storage
from chalicelib.infra.logging import logger

JOB_OBJECT = "job.json"
MAX_RANGE_YEARS = 10
DOWNLOAD_EXPIRES_SECONDS = 900
_FILE_PATTERNS = {
    "csv": "transactions_{}_{}.csv",
    "xlsx": "analytics_{}_{}.xlsx",
    "pdf": "budget_report_{}_{}.pdf",
}


def job_prefix(user_id: UUID, job_id: UUID) -> str:
    return f"exports/{user_id}/{job_id}/"


def file_name(format: str, date_from: date, date_to: date) -> str:
    return _FILE_PATTERNS[format].format(date_from.isoformat(), date_to.isoformat())


def _check_range(date_from: date, date_to: date) -> None:
    if date_from > date_to:
        raise ValidationFailed.field("to", "must not be before from")
    try:
        limit = date_from.replace(year=date_from.year + MAX_RANGE_YEARS)
    except ValueError:  # 29 February
        limit = date(date_from.year + MAX_RANGE_YEARS, 3, 1)
    if date_to >= limit:
        raise ValidationFailed.field("to", f"the range may cover at most {MAX_RANGE_YEARS} years")


def authorized_scope(
    conn: psycopg.Connection,
    *,
    user_id: UUID,
    date_from: date,
    date_to: date,
    account_id: UUID | None,
    family_id: UUID | None,
    include_archived: bool,
) -> ExportScope:
    """The export's scope after checking the caller may read the account and family (404 otherwise)."""
    access = load_access(conn, user_id)
    if family_id is not None:
        access.require_family(family_id, READ)
    if account_id is not None:
        account = report_repo.account_of(conn, account_id)
        if account is None:
            raise NotFound("Account not found")
        access.authorize(owner_id=account["user_id"], family_id=account["family_id"], need=READ, what="Account")
        if family_id is not None and account["family_id"] != family_id:
            raise ValidationFailed.field("account_id", "is not an account of this family")
    return ExportScope(
        access=access,
        date_from=date_from,
        date_to=date_to,
        account_id=account_id,
        family_id=family_id,
        include_archived=include_archived,
    )


def create_export(*, actor: Actor, data: ExportCreate) -> dict[str, Any]:
    """Record an export job and hand it to the background builder."""
    user_id = actor.user_id
    _check_range(data.date_from, data.date_to)
    with db.transaction() as conn:
        authorized_scope(
            conn,
            user_id=user_id,
            date_from=data.date_from,
            date_to=data.date_to,
            account_id=data.account_id,
            family_id=data.family_id,
            include_archived=data.include_archived,
        )
        job = repo.insert_job(
            conn,
            user_id=user_id,
            format=data.format,
            date_from=data.date_from,
            date_to=data.date_to,
            account_id=data.account_id,
            family_id=data.family_id,
            include_archived=data.include_archived,
        )
        record_audit(
            conn,
            actor=actor,
            action="export.create",
            resource_type="export",
            resource_id=job["id"],
            data=data.model_dump(mode="json", by_alias=True),
        )
        # Written before the commit: if storage is down the request fails and no job is
        # left pending forever. The event may then reach the builder a moment before the
        # row is committed; the builder raises so the event is delivered again.
        payload = {"id": str(job["id"]), "user_id": str(user_id), **data.model_dump(mode="json", by_alias=True)}
        try:
            storage.put_bytes(
                job_prefix(user_id, job["id"]) + JOB_OBJECT,
                json.dumps(payload).encode(),
                content_type="application/json",
            )
        except storage.StorageError as exc:
            logger.warning("export job object not written", extra={"error": f"{type(exc).__name__}: {exc}"})
            raise ServiceUnavailable("File storage is unavailable; try again shortly") from None
    return job


def _out(job: dict[str, Any]) -> dict[str, Any]:
    expired = job["purged_at"] is not None
    completed = job["status"] == "completed" and job["file_key"] and not expired
    out = {
        "id": job["id"],
        "status": job["status"],
        "format": job["format"],
        "date_from": job["date_from"],
        "date_to": job["date_to"],
        "account_id": job["account_id"],
        "family_id": job["family_id"],
        "include_archived": job["include_archived"],
        "rows": job["row_count"],
        "size_bytes": job["size_bytes"],
        "file_name": job["file_key"].rsplit("/", 1)[-1] if job["file_key"] else None,
        "error_message": job["error_message"],
        "expired": expired,
        "created_at": job["created_at"],
        "completed_at": job["completed_at"],
    }
    if completed:
        out["download_url"] = storage.presigned_get(job["file_key"], expires_seconds=DOWNLOAD_EXPIRES_SECONDS)
        out["expires_in"] = DOWNLOAD_EXPIRES_SECONDS
    return out


def get_export(*, user_id: UUID, export_id: UUID) -> dict[str, Any]:
    """One of the caller's exports, with a download URL once completed."""
    with db.transaction() as conn:
        job = repo.get_job(conn, job_id=export_id, user_id=user_id)
    if job is None:
        raise NotFound("Export not found")
    return _out(job)


def list_exports(*, user_id: UUID, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """The caller's exports, newest first."""
    after = paging.decode_created(cursor or None)
    with db.transaction() as conn:
        jobs = repo.list_jobs(conn, user_id=user_id, limit=limit + 1, after=after)
    page, next_cursor = paging.page(jobs, limit)
    return [_out(job) for job in page], next_cursor
