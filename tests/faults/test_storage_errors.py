"""Storage failures leave infra/storage.py as our own errors (ObjectNotFound, StorageError),
never as the minio SDK's or urllib3's: domains catch only those."""

import socket

import pytest

from chalicelib.infra import storage


def test_a_missing_key_is_object_not_found(services):
    with pytest.raises(storage.ObjectNotFound) as raised:
        storage.stat("imports/nobody/nothing.csv")
    assert raised.value.code == "NoSuchKey"
    with pytest.raises(storage.ObjectNotFound):
        storage.get_bytes("imports/nobody/nothing.csv")


def test_a_refusal_that_is_not_a_missing_key_is_a_storage_error_with_its_code(services, point_app_at):
    point_app_at(S3_BUCKET="fiscaflow-no-such-bucket")
    with pytest.raises(storage.StorageError) as raised:
        storage.get_bytes("imports/x/y.csv")
    assert raised.value.code == "NoSuchBucket" and not isinstance(raised.value, storage.ObjectNotFound)


def test_unreachable_storage_is_a_storage_error(services, point_app_at):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    point_app_at(S3_ENDPOINT_URL=f"http://127.0.0.1:{port}")
    with pytest.raises(storage.StorageError) as raised:
        storage.put_bytes("imports/x/y.csv", b"data")
    assert raised.value.code is None and "storage failed" in str(raised.value)
