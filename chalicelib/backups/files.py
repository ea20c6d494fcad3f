"""The daily `files-backup` run: every object under attachments/ and imports/ streamed
into one tar.gz (a multipart upload of unknown length) at
backups/files/{date}_{time}.tar.gz, beside it a manifest of keys, sizes and SHA-256
checksums; all but the newest `files_backup_keep` pruned. `fiscaflow restore-files KEY`
puts the objects back, each one only after its checksum matched the manifest.

Memory: the tar stream is produced one object at a time, so a run holds at most the
largest single object (receipts and statements are small) plus one upload part."""

import hashlib
import io
import json
import re
import tarfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from chalicelib.backups.service import _ChunkReader, prune_oldest
from chalicelib.infra import storage
from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings

PREFIX = "backups/files/"
SOURCES = ("attachments/", "imports/")
_KEY = re.compile(r"^backups/files/\d{4}-\d{2}-\d{2}_\d{6}(_\d{6})?\.tar\.gz$")
PART_SIZE = 8 * 1024 * 1024


class RestoreFilesFailed(Exception):
    """The archive does not match its manifest (or either is missing)."""


@dataclass
class FilesBackupReport:
    dry_run: bool
    key: str | None = None
    manifest_key: str | None = None
    objects: int = 0
    bytes_in: int = 0
    bytes_written: int = 0
    vanished: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    kept: int = 0
    seconds: float = 0.0


@dataclass
class RestoreFilesReport:
    key: str
    restored: int = 0
    bytes: int = 0
    seconds: float = 0.0


def backup_key(now: datetime) -> str:
    return f"{PREFIX}{now:%Y-%m-%d}_{now:%H%M%S}_{now:%f}.tar.gz"


def manifest_key(key: str) -> str:
    return key.removesuffix(".tar.gz") + ".manifest.json"


def backup_keys() -> list[str]:
    """File backups in the bucket, oldest first (the names sort by time)."""
    return sorted(k for k in storage.list_keys(PREFIX) if _KEY.match(k))


class _Sink(io.RawIOBase):
    """Where tarfile writes; the generator hands what accumulated to the upload."""

    def __init__(self):
        self._buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._buffer += data
        return len(data)

    def take(self) -> bytes:
        data, self._buffer = bytes(self._buffer), bytearray()
        return data


class _Hashing:
    def __init__(self, raw):
        self._raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self.sha256.update(data)
        self.size += len(data)
        return data


def _tar_chunks(keys: list[str], manifest: list[dict], report: FilesBackupReport) -> Iterator[bytes]:
    sink = _Sink()
    with tarfile.open(fileobj=sink, mode="w|gz") as tar:
        for key in keys:
            try:
                response = storage.open_stream(key)
            except storage.ObjectNotFound:
                report.vanished.append(key)  # deleted since the listing (erasure, retention)
                continue
            try:
                info = tarfile.TarInfo(name=key)
                info.size = int(response.headers["Content-Length"])
                info.mtime = int(time.time())
                hashing = _Hashing(response)
                tar.addfile(info, hashing)
            finally:
                response.close()
                response.release_conn()
            manifest.append({"key": key, "size": hashing.size, "sha256": hashing.sha256.hexdigest()})
            report.objects += 1
            report.bytes_in += hashing.size
            yield sink.take()
    yield sink.take()


def prune(*, keep: int, dry_run: bool) -> tuple[list[str], int]:
    return prune_oldest(backup_keys(), keep=keep, dry_run=dry_run, companion=manifest_key)


def run_files_backup(
    *, dry_run: bool = False, now: datetime | None = None, part_size: int = PART_SIZE
) -> FilesBackupReport:
    started = time.monotonic()
    now = now or datetime.now(UTC)
    keep = get_settings().files_backup_keep
    report = FilesBackupReport(dry_run=dry_run, key=backup_key(now))
    report.manifest_key = manifest_key(report.key)
    keys = sorted(k for prefix in SOURCES for k in storage.list_keys(prefix))
    if dry_run:
        report.objects = len(keys)
        report.pruned, report.kept = prune(keep=keep - 1, dry_run=True)
        report.kept += 1
    else:
        manifest: list[dict] = []
        stream = _ChunkReader(_tar_chunks(keys, manifest, report))
        # The archive appears only once its multipart upload completes; the manifest is
        # written after it, so a manifest always describes a complete archive.
        storage.put_stream(report.key, io.BufferedReader(stream), content_type="application/gzip", part_size=part_size)
        report.bytes_written = stream.total
        body = {"archive": report.key, "created_at": now.isoformat(), "objects": manifest}
        storage.put_bytes(report.manifest_key, json.dumps(body).encode(), content_type="application/json")
        report.pruned, report.kept = prune(keep=keep, dry_run=False)
    report.seconds = round(time.monotonic() - started, 3)
    logger.info(
        f"files backup {report.key}: {report.objects} objects, {report.bytes_written} bytes",
        extra={"report": asdict(report)},
    )
    return report


def restore_files(key: str) -> RestoreFilesReport:
    """Put every object of the archive back, each after its size and SHA-256 matched."""
    started = time.monotonic()
    if not _KEY.match(key):
        raise RestoreFilesFailed(f"{key!r} is not a files backup (backups/files/…tar.gz)")
    try:
        manifest = json.loads(storage.get_bytes(manifest_key(key)))
    except storage.StorageError as exc:
        raise RestoreFilesFailed(f"no manifest for {key}: {exc.code}") from exc
    expected = {o["key"]: o for o in manifest["objects"]}
    report = RestoreFilesReport(key=key)
    seen: set[str] = set()
    try:
        response = storage.open_stream(key)
    except storage.StorageError as exc:
        raise RestoreFilesFailed(f"no archive {key}: {exc.code}") from exc
    try:
        with tarfile.open(fileobj=response, mode="r|gz") as tar:
            for member in tar:
                entry = expected.get(member.name)
                if entry is None or not member.isfile():
                    raise RestoreFilesFailed(f"{member.name!r} is in the archive but not in its manifest")
                data = tar.extractfile(member).read()
                digest = hashlib.sha256(data).hexdigest()
                if len(data) != entry["size"] or digest != entry["sha256"]:
                    raise RestoreFilesFailed(f"{member.name}: checksum or size differs from the manifest")
                storage.put_bytes(member.name, data)
                seen.add(member.name)
                report.restored += 1
                report.bytes += len(data)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise RestoreFilesFailed(f"{key} is not a readable tar.gz: {exc}") from exc
    finally:
        response.close()
        response.release_conn()
    missing = sorted(set(expected) - seen)
    if missing:
        raise RestoreFilesFailed(f"{len(missing)} object(s) of the manifest are not in the archive: {missing[:3]}")
    report.seconds = round(time.monotonic() - started, 3)
    logger.info(f"restored {report.restored} objects from {key}", extra={"report": asdict(report)})
    return report
