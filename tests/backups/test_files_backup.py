"""files-backup: attachments/ and imports/ as one streamed tar.gz with a manifest;
restore-files puts them back only when every checksum matches; old archives pruned."""

import hashlib
import io
import json
import os
import tarfile
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.backups import files
from chalicelib.cli import main
from chalicelib.infra import storage

OBJECTS = {
    "attachments/u1/receipts/t1.jpg": b"\xff\xd8jpeg bytes",
    "attachments/u2/receipts/t2 with space.pdf": b"%PDF-1.4 receipt",
    "imports/u1/a1/i1/Jan 2024 + fees.csv": b"date,amount\n2024-01-02,-3.50\n",
}


@pytest.fixture
def objects(storage_clean):
    for key, data in OBJECTS.items():
        storage.put_bytes(key, data)
    storage.put_bytes("exports/u1/e1/export.csv", b"not backed up")
    return OBJECTS


@pytest.fixture
def keep(monkeypatch):
    from chalicelib.infra.settings import get_settings

    def set_keep(n: int):
        monkeypatch.setenv("FILES_BACKUP_KEEP", str(n))
        get_settings.cache_clear()

    yield set_keep
    monkeypatch.undo()
    get_settings.cache_clear()


def _manifest(key):
    return json.loads(storage.get_bytes(files.manifest_key(key)))


def test_the_archive_holds_attachments_and_imports_with_a_manifest_of_sizes_and_checksums(objects):
    report = files.run_files_backup(now=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC))

    assert report.key == "backups/files/2026-03-04_050607_000000.tar.gz" and report.objects == 3
    manifest = _manifest(report.key)
    assert {o["key"]: (o["size"], o["sha256"]) for o in manifest["objects"]} == {
        k: (len(v), hashlib.sha256(v).hexdigest()) for k, v in objects.items()
    }
    with tarfile.open(fileobj=io.BytesIO(storage.get_bytes(report.key)), mode="r:gz") as tar:
        assert {m.name: tar.extractfile(m).read() for m in tar} == objects
    assert report.bytes_written == storage.stat(report.key).size


def test_restore_files_puts_every_object_back_byte_for_byte(objects, capsys):
    report = files.run_files_backup()
    for key in objects:
        storage.delete(key)

    assert main(["restore-files", report.key]) == 0

    out = json.loads(capsys.readouterr().out)
    assert out["report"]["restored"] == 3
    assert {k: storage.get_bytes(k) for k in objects} == objects


def test_a_checksum_that_differs_from_the_manifest_refuses_the_restore(objects, capsys):
    report = files.run_files_backup()
    manifest = _manifest(report.key)
    manifest["objects"][1]["sha256"] = "0" * 64
    storage.put_bytes(files.manifest_key(report.key), json.dumps(manifest).encode())

    assert main(["restore-files", report.key]) == 1
    assert "checksum" in capsys.readouterr().err
    with pytest.raises(files.RestoreFilesFailed):
        files.restore_files("backups/database/2026-01-01_000000.sql.gz")


def test_an_object_of_the_manifest_missing_from_the_archive_refuses_the_restore(objects):
    report = files.run_files_backup()
    manifest = _manifest(report.key)
    manifest["objects"].append({"key": "attachments/u9/receipts/x.jpg", "size": 1, "sha256": "0" * 64})
    storage.put_bytes(files.manifest_key(report.key), json.dumps(manifest).encode())

    with pytest.raises(files.RestoreFilesFailed, match="not in the archive"):
        files.restore_files(report.key)


def test_a_large_archive_goes_up_as_a_multipart_upload_and_comes_back(storage_clean):
    big = {f"attachments/u1/receipts/big{i}.bin": os.urandom(3 * 1024 * 1024) for i in range(3)}
    for key, data in big.items():
        storage.put_bytes(key, data)

    report = files.run_files_backup(part_size=5 * 1024 * 1024)  # the S3 minimum part size

    assert report.bytes_written > 9 * 1024 * 1024
    # A multipart object's eTag is "<md5 of the part md5s>-<number of parts>".
    assert storage.stat(report.key).etag.strip('"').endswith("-2")
    for key in big:
        storage.delete(key)
    assert files.restore_files(report.key).restored == 3
    assert all(storage.get_bytes(k) == v for k, v in big.items())


def test_only_the_newest_archives_are_kept(objects, keep):
    keep(2)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    keys = [files.run_files_backup(now=start + timedelta(days=d)).key for d in range(3)]

    assert files.backup_keys() == keys[1:]
    remaining = set(storage.list_keys(files.PREFIX))
    assert remaining == {*keys[1:], *(files.manifest_key(k) for k in keys[1:])}
    dry = files.run_files_backup(dry_run=True, now=start + timedelta(days=5))
    assert dry.pruned == [keys[1]] and files.backup_keys() == keys[1:]


def test_the_job_is_scheduled_daily():
    import app as app_module
    from chalicelib.local.bridge import routes_of

    _, schedules = routes_of(app_module)
    assert {s.name: s.every_seconds for s in schedules}["files-backup"] == 86400
