"""POST /imports/credentials: short-lived storage credentials for a sync tool that drops
statement files itself, confined to imports/{user_id}/ (or one account's folder).

They come from STS AssumeRole with an inline session policy: the session can do no more
than both the role and that policy allow, so even a broad role yields credentials that
write only under the user's prefix. MinIO implements the same call (and moto's server,
which enforces nothing, answers it locally). Each issue is recorded so the S3 handler can
tell whose credentials wrote a file (chalicelib/imports/uploaders.py)."""

import json
from datetime import datetime
from uuid import UUID

from pydantic import Field

from chalicelib.api.context import RequestContext
from chalicelib.audit.service import record_audit
from chalicelib.core.types import RequestModel, ResponseModel
from chalicelib.errors import NotFound, ServiceUnavailable
from chalicelib.families.access import WRITE_TRANSACTIONS, load_access
from chalicelib.imports import repo, uploader_repo
from chalicelib.imports.uploaders import session_name
from chalicelib.infra import db
from chalicelib.infra.settings import get_settings


class DropCredentialsIn(RequestModel):
    account_id: UUID | None = Field(default=None, description="Confine the credentials to this account's folder")


class DropCredentialsOut(ResponseModel):
    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: datetime
    bucket: str
    prefix: str


def session_policy(*, bucket: str, prefix: str) -> dict:
    """Put objects under `prefix` and list it; nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": [f"arn:aws:s3:::{bucket}/{prefix}*"]},
            {
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{bucket}"],
                "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}},
            },
        ],
    }


def _sts_client():
    import boto3  # kept off the cold start of every function that never issues credentials

    settings = get_settings()
    return boto3.client(
        "sts",
        endpoint_url=settings.sts_endpoint_url or None,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
    )


def issue_drop_credentials(ctx: RequestContext, *, user_id: UUID, account_id: UUID | None) -> DropCredentialsOut:
    """Short-lived credentials that may only put files under the caller's imports/ folder."""
    settings = get_settings()
    prefix = f"imports/{user_id}/" + (f"{account_id}/" if account_id else "")
    with db.transaction() as conn:
        if account_id is not None:
            account = repo.find_account(conn, account_id)
            if account is None:
                raise NotFound("Account not found")
            load_access(conn, user_id).authorize(
                owner_id=account["user_id"], family_id=account["family_id"], need=WRITE_TRANSACTIONS, what="Account"
            )
    try:
        issued = _sts_client().assume_role(
            RoleArn=settings.import_drop_role_arn,
            RoleSessionName=session_name(user_id),
            Policy=json.dumps(session_policy(bucket=settings.s3_bucket, prefix=prefix)),
            DurationSeconds=settings.import_drop_credentials_seconds,
        )["Credentials"]
    except Exception as exc:  # botocore's errors: the storage's STS is down or refuses the role
        raise ServiceUnavailable(f"Storage credentials could not be issued ({type(exc).__name__})") from None
    with db.transaction() as conn:
        uploader_repo.record_drop_credentials(
            conn,
            access_key_id=issued["AccessKeyId"],
            user_id=user_id,
            account_id=account_id,
            role_session_name=session_name(user_id),
            expires_at=issued["Expiration"],
        )
        record_audit(conn, ctx, action="import.credentials_issued", resource_type="import", resource_id=None,
                     data={"prefix": prefix, "expires_at": issued["Expiration"].isoformat()})  # fmt: skip
    return DropCredentialsOut(
        access_key_id=issued["AccessKeyId"],
        secret_access_key=issued["SecretAccessKey"],
        session_token=issued["SessionToken"],
        expires_at=issued["Expiration"],
        bucket=settings.s3_bucket,
        prefix=prefix,
    )
