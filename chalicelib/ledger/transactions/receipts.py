"""Receipts: the file goes straight between the client and object storage through
presigned URLs under attachments/{user_id}/receipts/{transaction_id}.{ext} (user_id: the
transaction's owner, so a person's files live under their prefix); the transaction's
receipt_url keeps the key.

The upload URL signs Content-Type (images and PDF only) and, when the request gives the
file's `size` (at most 10 MB), Content-Length: storage that checks signatures refuses any
other type or size. (A presigned PUT cannot sign a range, only a POST policy can, and the
contract's answer is a single upload_url.) Downloads answer with the stored type, inline
for images and PDF only (chalicelib/infra/storage.py)."""

from dataclasses import dataclass
from uuid import UUID

from chalicelib.audit.changes import record_change
from chalicelib.core.actor import Actor
from chalicelib.errors import NotFound, ServiceUnavailable
from chalicelib.families.access import READ, WRITE_TRANSACTIONS, load_access
from chalicelib.infra import db, outbox, storage
from chalicelib.infra.logging import logger
from chalicelib.ledger.transactions import repo
from chalicelib.ledger.transactions.service import remove_object

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
EXPIRES_SECONDS = 900


@dataclass(frozen=True)
class UploadUrl:
    """Where and how long to upload a receipt: a signed URL for the object key kept on the transaction."""

    upload_url: str
    key: str
    expires_in: int


@dataclass(frozen=True)
class DownloadUrl:
    download_url: str
    expires_in: int


def receipt_key(user_id: UUID, transaction_id: UUID, content_type: str) -> str:
    return f"attachments/{user_id}/receipts/{transaction_id}.{EXTENSIONS[content_type]}"


def start_upload(*, actor: Actor, transaction_id: UUID, content_type: str, size: int | None) -> UploadUrl:
    """A presigned upload URL for the transaction's receipt; the key is kept on the transaction."""
    with db.transaction() as conn:
        before = repo.get(conn, transaction_id, for_update=True)
        if before is None:
            raise NotFound("Transaction not found")
        load_access(conn, actor.user_id).authorize(
            owner_id=before["user_id"], family_id=before["family_id"], need=WRITE_TRANSACTIONS, what="Transaction"
        )
        key = receipt_key(before["user_id"], transaction_id, content_type)
        try:
            url = storage.presigned_put(
                key, expires_seconds=EXPIRES_SECONDS, content_type=content_type, content_length=size
            )
        except storage.StorageError as exc:
            logger.warning("receipt upload url failed", extra={"error": type(exc).__name__})
            raise ServiceUnavailable("File storage is unavailable; try again shortly") from None
        repo.update(conn, transaction_id, before["transaction_date"], {"receipt_url": key})
        outbox.record_changes(conn, aggregate_type="transaction", ids=[transaction_id])
        record_change(
            conn,
            actor=actor,
            action="transaction.receipt",
            resource_type="transaction",
            resource_id=transaction_id,
            before={"receipt_url": before["receipt_url"]},
            after={"receipt_url": key},
            owners=[(before["user_id"], before["family_id"])],
        )
        old = before["receipt_url"]
        if old and old != key:
            db.after_commit(lambda: remove_object(old))
    return UploadUrl(upload_url=url, key=key, expires_in=EXPIRES_SECONDS)


def download(*, user_id: UUID, transaction_id: UUID) -> DownloadUrl:
    """A presigned download URL for the receipt (404 until one was uploaded)."""
    with db.transaction() as conn:
        row = repo.get(conn, transaction_id) or repo.get_archived(conn, transaction_id)
        if row is None:
            raise NotFound("Transaction not found")
        load_access(conn, user_id).authorize(
            owner_id=row["user_id"], family_id=row["family_id"], need=READ, what="Transaction"
        )
    key = row["receipt_url"]
    if not key or not _uploaded(key):
        raise NotFound("No receipt has been uploaded for this transaction")
    return DownloadUrl(
        download_url=storage.presigned_get(key, expires_seconds=EXPIRES_SECONDS), expires_in=EXPIRES_SECONDS
    )


def _uploaded(key: str) -> bool:
    try:
        storage.stat(key)
        return True
    except storage.ObjectNotFound:
        return False
