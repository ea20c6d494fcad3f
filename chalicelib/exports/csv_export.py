"""The CSV export (API.md "Exports"): UTF-8, RFC 4180 quoting, the contract's header,
amounts as plain decimals, and text that a spreadsheet would run neutralized."""

import csv
import io
from collections.abc import Iterable, Iterator

from chalicelib.exports.columns import HEADER

# A cell starting with one of these is a formula (or becomes one) in Excel, LibreOffice
# and Google Sheets; OWASP's CSV-injection advice is to prefix such cells with a quote.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_BYTES = 256 * 1024


def neutralize(text: str | None) -> str:
    if not text:
        return ""
    return "'" + text if text.startswith(_FORMULA_TRIGGERS) else text


def csv_cells(row: tuple) -> list[str]:
    """One logical row (columns.logical_rows) as CSV cells."""
    date_, posted, account, category, description, merchant, amount, currency, status, tags, notes, ext = row
    return [
        date_.isoformat(),
        posted.isoformat() if posted else "",
        neutralize(account),
        neutralize(category),
        neutralize(description),
        neutralize(merchant),
        f"{amount:.2f}",
        currency or "",
        status or "",
        neutralize(tags),
        neutralize(notes),
        neutralize(ext),
    ]


def csv_chunks(rows: Iterable[tuple]) -> Iterator[bytes]:
    """The file as UTF-8 chunks of about CHUNK_BYTES: never the whole file in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(csv_cells(row))
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


class ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks, for storage.put_stream.

    read(n) returns n bytes whenever that many remain: minio assembles each multipart
    part by concatenating reads, which is quadratic when the reads are small."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks = iter(chunks)
        self._pending: list[bytes] = []
        self._pending_size = 0
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or self._pending_size < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            if chunk:
                self._pending.append(chunk)
                self._pending_size += len(chunk)
        data = b"".join(self._pending)
        if 0 <= size < len(data):
            data, rest = data[:size], data[size:]
            self._pending, self._pending_size = [rest], len(rest)
        else:
            self._pending, self._pending_size = [], 0
        self.bytes_read += len(data)
        return data
