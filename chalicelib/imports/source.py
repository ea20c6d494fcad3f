"""The statement file: copied from the bucket to local disk in chunks (so a 100k-row file
is never one Python string), refused early when it is too large, empty or binary, and
decoded by the encoding its bytes prove: UTF-8 (with or without BOM), else Windows-1252
/ Latin-1. A file that mixes UTF-8 with other bytes is refused with its bad lines rather
than imported as mojibake."""

import contextlib
import io
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, TextIO

from chalicelib.imports.rejections import ImportRejected, LineError

CHUNK = 1024 * 1024
_HEAD = 8192
_QIF_HEADERS = (b"!TYPE", b"!ACCOUNT", b"!OPTION", b"!CLEAR")


@dataclass
class StatementFile:
    path: str
    size: int
    format: str = ""
    encoding: str = "utf-8"

    def open_binary(self) -> BinaryIO:
        return open(self.path, "rb")

    def open_text(self) -> TextIO:
        return open(self.path, encoding=self.encoding, newline="")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


@contextlib.contextmanager
def fetched(key: str, *, size: int | None, max_bytes: int) -> Iterator[StatementFile]:
    """The object as a local temporary file, removed afterwards."""
    from chalicelib.infra import storage

    if size is not None and size > max_bytes:
        raise ImportRejected(f"The file is {_megabytes(size)}; files up to {_megabytes(max_bytes)} are imported")
    handle, path = tempfile.mkstemp(prefix="fiscaflow-import-")
    try:
        written = 0
        with os.fdopen(handle, "wb") as out:
            try:
                response = storage.open_stream(key)
            except storage.StorageError as exc:
                if isinstance(exc, storage.ObjectNotFound) or exc.code == "NoSuchBucket":
                    raise ImportRejected("The file is no longer in the bucket") from None
                raise
            try:
                for chunk in response.stream(CHUNK):
                    written += len(chunk)
                    if written > max_bytes:
                        raise ImportRejected(f"The file is larger than {_megabytes(max_bytes)}, the import limit")
                    out.write(chunk)
            finally:
                response.close()
                response.release_conn()
        yield StatementFile(path, written)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def inspect_content(statement: StatementFile, *, format: str | None) -> StatementFile:
    """Refuse what is not a statement; set the format (given or detected) and the encoding."""
    with statement.open_binary() as f:
        head = f.read(_HEAD)
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise ImportRejected("The file is empty")
    if head.startswith(b"%PDF"):
        raise ImportRejected("The file is a PDF; download the statement as CSV, OFX/QFX or QIF instead")
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise ImportRejected("The file is a spreadsheet or archive; save or download the statement as CSV instead")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[1:200:2].count(0) > 20:
        raise ImportRejected("The file is UTF-16 encoded; save it as UTF-8 or Windows-1252 CSV")
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13, 12))
    if b"\x00" in head or controls > len(head) // 20:
        raise ImportRejected("The file is binary, not a bank statement")
    upper = head.upper()
    # The first line that is not blank or a comment ("### exported by …" before a QIF header).
    lines = (line.strip() for line in upper.lstrip(b"\xef\xbb\xbf").split(b"\n"))
    first_line = next((line for line in lines if line and not line.startswith((b"#", b";"))), b"")
    if format in ("ofx", "qfx") or (format is None and (b"OFXHEADER" in upper or b"<OFX>" in upper)):
        statement.format = "ofx"
        return statement  # ofxtools decodes by the charset the OFX header names
    if format == "qif" or (format is None and first_line.startswith(_QIF_HEADERS)):
        statement.format = "qif"
    else:
        statement.format = "csv"
    statement.encoding = _encoding(statement)
    return statement


def _encoding(statement: StatementFile) -> str:
    bad_lines: list[int] = []
    utf8_lines = 0
    with statement.open_binary() as f:
        bom = f.read(3) == b"\xef\xbb\xbf"
        f.seek(0)
        for number, line in enumerate(io.BufferedReader(f, CHUNK), start=1):
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
                utf8_lines += 1
            except UnicodeDecodeError:
                bad_lines.append(number)
    if not bad_lines:
        return "utf-8-sig" if bom else "utf-8"
    if utf8_lines or bom:
        raise ImportRejected(
            f"The file mixes encodings: {len(bad_lines)} line(s) are not valid UTF-8 while the rest of the file is; "
            "save it again as UTF-8",
            [LineError(n, "not valid UTF-8 (the rest of the file is UTF-8)") for n in bad_lines],
        )
    with statement.open_binary() as f:
        head = f.read(CHUNK)
        if _cyrillic(head):
            return "cp1251"
        f.seek(0)
        try:
            for chunk in iter(lambda: f.read(CHUNK), b""):
                chunk.decode("cp1252")
        except UnicodeDecodeError:
            # The five bytes cp1252 leaves undefined: Latin-1 reads every byte.
            return "latin-1"
    return "cp1252"


_HIGH_RUN = re.compile(rb"[\xc0-\xff]{3,}")


def _cyrillic(data: bytes) -> bool:
    """Windows-1251 (Russian, Ukrainian, Bulgarian banks) rather than 1252: its words are
    runs of bytes above 0xC0, where a Western file has a lone accented letter among ASCII
    ones ("Müller", "Crêperie")."""
    high = sum(1 for b in data if b >= 0x80)
    if high < 20:
        return False
    in_runs = sum(len(m) for m in _HIGH_RUN.findall(data))
    return in_runs >= high * 0.6
