"""Use cases of the imports API: ask for an upload URL, confirm a previewed (or failed)
import, read one's imports."""

from typing import Any
from uuid import UUID, uuid4

from chalicelib.audit.service import record_audit
from chalicelib.core import paging
from chalicelib.core.actor import Actor
from chalicelib.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from chalicelib.families.access import WRITE_TRANSACTIONS, load_access
from chalicelib.imports import processing, repo
from chalicelib.imports.models import ColumnMapping, ImportUpload
from chalicelib.infra import db, storage
from chalicelib.infra.settings import get_settings


def object_key(*, user_id: UUID, account_id: UUID, import_id: UUID, filename: str) -> str:
    return f"imports/{user_id}/{account_id}/{import_id}/{filename}"


def request_import(
    actor: Actor,
    *,
    account_id: UUID,
    filename: str,
    format: str | None,
    mapping: ColumnMapping | None,
    preview: bool = False,
    content_type: str | None = None,
    size: int | None = None,
) -> ImportUpload:
    """Record a pending import and hand out a presigned PUT for its file."""
    user_id = actor.user_id
    max_bytes = get_settings().import_max_bytes
    if size is not None and size > max_bytes:
        raise ValidationFailed.field("size", f"must be at most {max_bytes} bytes")
    import_id = uuid4()
    key = object_key(user_id=user_id, account_id=account_id, import_id=import_id, filename=filename)
    with db.transaction() as conn:
        account = repo.find_account(conn, account_id)
        if account is None:
            raise NotFound("Account not found")
        access = load_access(conn, user_id)
        access.authorize(
            owner_id=account["user_id"], family_id=account["family_id"], need=WRITE_TRANSACTIONS, what="Account"
        )
        if mapping is not None:
            repo.save_mapping(
                conn, account_id=account_id, mapping=mapping.model_dump(exclude_defaults=True), user_id=user_id
            )
        repo.insert_log(
            conn,
            log_id=import_id,
            user_id=user_id,
            account_id=account_id,
            status="pending",
            file_key=key,
            metadata={"format": format, "filename": filename, "preview": preview},
        )
        record_audit(
            conn,
            actor=actor,
            action="import.requested",
            resource_type="import",
            resource_id=import_id,
            data={"account_id": account_id, "filename": filename, "format": format, "mapping": mapping is not None,
                  "preview": preview},
        )  # fmt: skip
    expires = get_settings().import_upload_expires_seconds
    return ImportUpload(
        import_id=import_id,
        upload_url=storage.presigned_put(key, expires_seconds=expires, content_type=content_type, content_length=size),
        key=key,
        expires_in=expires,
    )


CONFIRMABLE = ("preview", "failed")


def confirm_import(*, actor: Actor, import_id: UUID, mapping: ColumnMapping | None) -> dict[str, Any]:
    """Book a previewed or failed import's file (with the mapping, saved for the account)."""
    user_id = actor.user_id
    with db.transaction() as conn:
        log = repo.lock_log(conn, log_id=import_id, user_id=user_id)
        if log is None:
            raise NotFound("Import not found")
        account = repo.find_account(conn, log["account_id"]) if log["account_id"] else None
        if account is None:
            raise Conflict("The account this file was dropped for does not exist; upload it again for an account")
        load_access(conn, user_id).authorize(
            owner_id=account["user_id"], family_id=account["family_id"], need=WRITE_TRANSACTIONS, what="Account"
        )
        if log["error_code"] == "uploader_not_allowed":
            raise Conflict("This file was not written by an allowed uploader; upload it through POST /imports")
        if log["status"] not in CONFIRMABLE:
            raise Conflict(f"An import that is {log['status']} cannot be confirmed; only preview and failed ones can")
        if mapping is not None:
            repo.save_mapping(
                conn, account_id=account["id"], mapping=mapping.model_dump(exclude_defaults=True), user_id=user_id
            )
        attempt = int((log["metadata"] or {}).get("confirm_attempt") or 0) + 1
        repo.start_confirm(conn, log_id=import_id, attempt=attempt)
        record_audit(
            conn,
            actor=actor,
            action="import.confirmed",
            resource_type="import",
            resource_id=import_id,
            data={"account_id": account["id"], "from_status": log["status"], "attempt": attempt,
                  "mapping": mapping is not None},
        )  # fmt: skip
    # Committed first: the record is in_progress for this attempt only, so a second or a
    # concurrent confirm is a 409 and the attempt's own claim makes its rows count once.
    # The import runs here, in the request; the record is final when the response leaves.
    try:
        processing.confirm_object(
            log_id=import_id, user_id=user_id, account_id=account["id"], key=log["file_key"], attempt=attempt
        )
    except processing.TRANSIENT:
        raise ServiceUnavailable("Storage or the database is unavailable; confirm the import again shortly") from None
    return get_import(user_id=user_id, import_id=import_id)


def get_import(*, user_id: UUID, import_id: UUID) -> dict[str, Any]:
    """One of the caller's imports."""
    with db.transaction() as conn:
        row = repo.get_log(conn, log_id=import_id, user_id=user_id)
    if row is None:
        raise NotFound("Import not found")
    return row


def list_imports(
    *,
    user_id: UUID,
    limit: int,
    cursor: str | None,
    account_id: UUID | None,
    status: str | None,
    sync_type: str = "csv_import",
) -> tuple[list[dict[str, Any]], str | None]:
    """The caller's imports (or bank-sync runs), newest first."""
    after = paging.decode_created(cursor or None)
    with db.transaction() as conn:
        rows = repo.list_logs(
            conn, user_id=user_id, limit=limit + 1, after=after, account_id=account_id, status=status,
            sync_type=sync_type,
        )  # fmt: skip
    return paging.page(rows, limit)
