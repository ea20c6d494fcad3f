"""Object storage over the S3 API with the minio SDK (MinIO locally or in compose,
S3 in AWS, moto's server on CI). The client is built lazily: importing this module
costs nothing on a cold start that never touches storage.

Failures leave this module as StorageError (ObjectNotFound for a missing key): the minio
SDK's, urllib3's and botocore's exceptions never reach a domain."""

import io
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import IO
from urllib.parse import urlsplit

from chalicelib.infra.settings import get_settings


class StorageError(Exception):
    """Storage refused or failed an operation; `code` is the S3 error code where it gave one."""

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.code = code


class ObjectNotFound(StorageError):
    """No object under the key."""


MISSING_CODES = frozenset({"NoSuchKey", "NoSuchObject", "NotFound"})


@contextmanager
def _translated() -> Iterator[None]:
    import urllib3
    from minio.error import MinioException, S3Error

    try:
        yield
    except S3Error as exc:
        kind = ObjectNotFound if exc.code in MISSING_CODES else StorageError
        raise kind(f"storage refused the request: {exc.code}", code=exc.code) from exc
    except (MinioException, urllib3.exceptions.HTTPError, ConnectionError, TimeoutError) as exc:
        raise StorageError(f"storage failed: {type(exc).__name__}: {exc}") from exc


_client = None
_public_client = None
_lock = threading.Lock()


def _build(endpoint_url: str):
    from minio import Minio

    settings = get_settings()
    parts = urlsplit(endpoint_url)
    return Minio(
        parts.netloc,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=parts.scheme == "https",
        # A fixed region spares a GetBucketLocation round trip before every call.
        region=settings.s3_region,
    )


def client():
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = _build(get_settings().s3_endpoint_url)
    return _client


def _presign_client():
    global _public_client
    settings = get_settings()
    if not settings.s3_public_endpoint_url:
        return client()
    if _public_client is None:
        with _lock:
            if _public_client is None:
                _public_client = _build(settings.s3_public_endpoint_url)
    return _public_client


def reset() -> None:
    global _client, _public_client
    with _lock:
        _client = None
        _public_client = None


def bucket() -> str:
    return get_settings().s3_bucket


def ensure_bucket() -> None:
    c = client()
    with _translated():
        if not c.bucket_exists(bucket()):
            c.make_bucket(bucket())


def ping() -> bool:
    try:
        return bool(client().bucket_exists(bucket()))
    except Exception:
        return False


# Types a browser may show in place. Anything else (HTML, SVG, a "CSV" that is really a
# page) is served as a download, so a stored file never runs as a page on storage's origin.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"})


def presigned_put(
    key: str, *, expires_seconds: int = 900, content_type: str | None = None, content_length: int | None = None
) -> str:
    """A presigned PUT; with `content_type`/`content_length` those headers are signed too, so
    storage that checks signatures refuses an upload of another type or size."""
    if content_type is None and content_length is None:
        with _translated():
            return _presign_client().presigned_put_object(bucket(), key, expires=timedelta(seconds=expires_seconds))
    # The minio SDK signs the host header only; botocore signs whatever headers the request names.
    params: dict = {"Bucket": bucket(), "Key": key}
    if content_type is not None:
        params["ContentType"] = content_type
    if content_length is not None:
        params["ContentLength"] = content_length
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return _boto_presigner().generate_presigned_url("put_object", Params=params, ExpiresIn=expires_seconds)
    except (BotoCoreError, ClientError) as exc:
        raise StorageError(f"storage could not sign the upload: {exc}") from exc


def presigned_get(key: str, *, expires_seconds: int = 900, content_type: str | None = None) -> str:
    """A presigned GET that answers with the object's stored type (read from storage unless
    given), and as an attachment unless the type is an image or a PDF."""
    stored = content_type or stat(key).content_type or "application/octet-stream"
    media_type = stored.split(";", 1)[0].strip().lower()
    headers = {"response-content-type": stored}
    if media_type not in INLINE_TYPES:
        name = re.sub(r"[^A-Za-z0-9._-]", "_", key.rsplit("/", 1)[-1]) or "download"
        headers["response-content-disposition"] = f'attachment; filename="{name}"'
    with _translated():
        return _presign_client().presigned_get_object(
            bucket(), key, expires=timedelta(seconds=expires_seconds), response_headers=headers
        )


def _boto_presigner():
    import boto3  # only for the uploads that sign their headers; kept off the cold start
    from botocore.config import Config

    settings = get_settings()
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_public_endpoint_url or settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def put_bytes(key: str, data: bytes, *, content_type: str = "application/octet-stream") -> str:
    """Store bytes; returns the object's eTag."""
    with _translated():
        return client().put_object(bucket(), key, io.BytesIO(data), len(data), content_type=content_type).etag


def put_stream(
    key: str, stream: IO[bytes], *, content_type: str = "application/octet-stream", part_size: int = 8 * 1024 * 1024
) -> str:
    """Stream an object of unknown length (multipart upload under the hood)."""
    with _translated():
        return client().put_object(bucket(), key, stream, -1, content_type=content_type, part_size=part_size).etag


def get_bytes(key: str) -> bytes:
    with _translated():
        response = client().get_object(bucket(), key)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()


def open_stream(key: str):
    """A readable response for the object; the caller closes it (use contextlib.closing).
    A failure while the caller reads it is urllib3's (the response is the SDK's own)."""
    with _translated():
        return client().get_object(bucket(), key)


def stat(key: str):
    with _translated():
        return client().stat_object(bucket(), key)


def list_keys(prefix: str) -> Iterator[str]:
    with _translated():
        for obj in client().list_objects(bucket(), prefix=prefix, recursive=True):
            yield obj.object_name


def delete(key: str) -> None:
    with _translated():
        client().remove_object(bucket(), key)


def delete_prefix(prefix: str) -> int:
    from minio.deleteobjects import DeleteObject

    keys = [DeleteObject(k) for k in list_keys(prefix)]
    if not keys:
        return 0
    with _translated():
        errors = list(client().remove_objects(bucket(), keys))
    if errors:
        raise StorageError(f"could not delete {len(errors)} objects under {prefix}")
    return len(keys)


def server_is_minio(endpoint_url: str | None = None) -> bool:
    """True when the S3 endpoint is a MinIO server (its liveness route answers and its
    responses say `Server: MinIO`); moto and AWS answer that route otherwise."""
    import urllib3

    url = f"{(endpoint_url or get_settings().s3_endpoint_url).rstrip('/')}/minio/health/live"
    try:
        response = urllib3.request("GET", url, timeout=3.0, retries=False)
    except (urllib3.exceptions.HTTPError, ValueError):
        return False
    return response.status == 200 and response.headers.get("Server", "").startswith("MinIO")
