"""How an import ends, recorded in the caller's transaction: the import record, the
owner's notification and the audit trail, alike for an import that completes, one that
is refused, one that crashed and one the upkeep found stale."""

from uuid import UUID

import psycopg

from chalicelib.audit.service import record_audit
from chalicelib.core.actor import Actor
from chalicelib.imports import repo
from chalicelib.imports.rejections import ImportRejected
from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings
from chalicelib.notifications.service import create_notification

# Every outcome is the import pipeline's doing: the S3 handler's, or a confirm's run of it.
ACTOR = Actor.system("s3-import")


def filename_of(key: str | None) -> str:
    return (key or "").rsplit("/", 1)[-1] or "statement"


def completed(
    conn: psycopg.Connection,
    *,
    key: str,
    user_id: UUID,
    account_id: UUID,
    log_id: UUID,
    added: int,
    updated: int,
    duplicates: int,
    details: dict,
) -> None:
    repo.finish_log(
        conn,
        log_id=log_id,
        status="completed",
        file_key=key,
        added=added,
        updated=updated,
        duplicates=duplicates,
        metadata=details,
    )
    replaced = f", {updated} pending transaction(s) posted" if updated else ""
    create_notification(
        conn,
        user_id=user_id,
        type="system",
        title="Statement imported",
        message=f"{filename_of(key)}: {added} transaction(s) added{replaced}, {duplicates} duplicate(s) skipped.",
        data={"import_id": log_id, "account_id": account_id, "status": "completed"},
        dedupe_key=f"import:{log_id}:completed",
    )
    record_audit(
        conn,
        actor=ACTOR,
        action="import.completed",
        resource_type="import",
        resource_id=log_id,
        user_id=user_id,
        data={"account_id": account_id, "file_key": key, "added": added, "updated": updated,
              "duplicates_skipped": duplicates, "format": details.get("format")},
    )  # fmt: skip


def previewed(conn: psycopg.Connection, *, key: str, user_id: UUID, log_id: UUID, details: dict) -> None:
    # No notification: the person asked for the preview and reads it from GET /imports/{id}.
    repo.finish_log(conn, log_id=log_id, status="preview", file_key=key, metadata=details)
    record_audit(
        conn,
        actor=ACTOR,
        action="import.previewed",
        resource_type="import",
        resource_id=log_id,
        user_id=user_id,
        data={"file_key": key, "rows": details.get("rows"), "format": details.get("format")},
    )


def failed(
    conn: psycopg.Connection,
    *,
    key: str,
    user_id: UUID,
    log_id: UUID,
    rejection: ImportRejected,
    error_code: str,
    details: dict,
    max_listed: int | None = None,
) -> None:
    limit = max_listed or get_settings().import_max_listed_errors
    errors = [{"line": e.line, "message": e.message} for e in rejection.errors[:limit]]
    message = rejection.message
    if len(rejection.errors) > limit:
        message += f" (the first {limit} of {len(rejection.errors)} bad lines are listed)"
    repo.finish_log(
        conn,
        log_id=log_id,
        status="failed",
        file_key=key,
        error_message=message,
        error_code=error_code,
        errors=errors,
        metadata=details,
    )
    notify_failed(conn, key=key, user_id=user_id, log_id=log_id, message=message)
    record_audit(
        conn,
        actor=ACTOR,
        action="import.failed",
        resource_type="import",
        resource_id=log_id,
        user_id=user_id,
        data={"file_key": key, "errors": len(rejection.errors), "error_code": error_code},
        success=False,
        error_message=message[:1000],
    )
    logger.warning(
        "import failed", extra={"import_id": str(log_id), "key": key, "error_code": error_code, "reason": message[:300]}
    )


def notify_failed(conn: psycopg.Connection, *, key: str | None, user_id: UUID, log_id: UUID, message: str) -> None:
    # One failure notification per failure: a confirm attempt that fails again notifies again.
    attempt = conn.execute(
        "SELECT COALESCE(metadata->>'confirm_attempt', '0') AS n FROM data_sync_logs WHERE id = %s", (log_id,)
    ).fetchone()
    create_notification(
        conn,
        user_id=user_id,
        type="system",
        title="Statement import failed",
        message=f"{filename_of(key)}: {message}",
        data={"import_id": log_id, "status": "failed"},
        priority="high",
        dedupe_key=f"import:{log_id}:failed:{attempt['n'] if attempt else '0'}",
    )
