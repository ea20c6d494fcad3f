"""Who may have written a statement file that landed under imports/{user_id}/…

The key names a user, but a key can be written by anyone who can write to the bucket
(moto's server checks no signatures, so one user booked transactions into another's
account by editing the path of a presigned URL). S3 and MinIO event records carry the
writer, `userIdentity.principalId`; an object is imported only when its writer may
write there:

- the app's own principal (`IMPORT_APP_PRINCIPAL`, default the storage access key,
  which is what MinIO reports): a presigned upload, so the key must be one that
  POST /imports handed out to that very user;
- an operator principal named in `IMPORT_OPERATOR_PRINCIPALS` (bank-sync jobs, a
  person with bucket access);
- credentials POST /imports/credentials issued to that user (STS AssumeRole confined
  to imports/{user_id}/), recognised by their access key (MinIO) or their role session
  name (S3 reports `AWS:<role id>:<session name>`).

Anything else is a failed import in that user's list. An event with no userIdentity at
all (moto's server sends none) is trusted as before: that server authenticates nothing,
so there is no writer to check; it is for local use only (README)."""

from uuid import UUID

import psycopg

from chalicelib.imports import uploader_repo
from chalicelib.infra.settings import get_settings

NOT_ALLOWED = "Not written by an allowed uploader"
SESSION_PREFIX = "fiscaflow-drop-"


def session_name(user_id: UUID) -> str:
    """The STS role session name of a user's drop credentials (at most 64 characters)."""
    return f"{SESSION_PREFIX}{user_id.hex}"


def principal_of(record: dict) -> str | None:
    """The writer an S3 event record names: None when the record has no userIdentity."""
    identity = record.get("userIdentity")
    if identity is None:
        return None
    return str(identity.get("principalId") or "")


def uploader_refusal(conn: psycopg.Connection, *, principal_id: str | None, user_id: UUID, key: str) -> str | None:
    """Why this writer may not drop this key for this user, or None when it may."""
    if principal_id is None:
        return None
    settings = get_settings()
    if principal_id in settings.import_operator_principal_ids:
        return None
    if principal_id == settings.import_app_principal_id:
        return None if uploader_repo.import_requested_for(conn, user_id=user_id, key=key) else NOT_ALLOWED
    session = principal_id.rsplit(":", 1)[1] if ":" in principal_id else None
    if session is not None and not session.startswith(SESSION_PREFIX):
        session = None
    owner = uploader_repo.drop_credential_owner(conn, access_key_id=principal_id, session_name=session)
    return None if owner is not None and owner == user_id else NOT_ALLOWED
