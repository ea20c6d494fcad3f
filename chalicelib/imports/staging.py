"""Valid rows on their way into the database: written to local disk in PostgreSQL's COPY
text format while the file is parsed (nothing is written to the database until the
whole file is known to be good), then streamed into a temporary table in one COPY.

Rows are keyed by their order in the file (`seq`), not by `line`: one line can hold many
transactions (an OFX statement written on a single line) and `line` is only for messages."""

import contextlib
import os
import tempfile
from datetime import date

from chalicelib.categorization.keywords import keyword_slot, merchant_key
from chalicelib.imports.statement import StatementRow

STAGING_COLUMNS = (
    "seq",
    "line",
    "transaction_date",
    "posted_date",
    "amount",
    "description",
    "merchant",
    "memo",
    "external_id",
    "category_hint",
    "keyword_slot",
    "merchant_key",
    "status",
)
NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: str | None) -> str:
    if value is None:
        return NULL
    # Readers collapse whitespace, so escaping is rare: four substring tests are much
    # cheaper than a translate() of every value (1.3 million values an import).
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


class RowSpool:
    def __init__(self):
        handle, self.path = tempfile.mkstemp(prefix="fiscaflow-rows-")
        self._out = os.fdopen(handle, "w", encoding="utf-8", buffering=1024 * 1024)
        self.count = 0
        self.first_date: date | None = None
        self.last_date: date | None = None

    def add(self, row: StatementRow) -> None:
        self.count += 1
        day = row.transaction_date
        if self.first_date is None or day < self.first_date:
            self.first_date = day
        if self.last_date is None or day > self.last_date:
            self.last_date = day
        posted = row.posted_date
        slot = keyword_slot(row.description, row.merchant)
        # Dates, amounts, numbers and the status never need escaping.
        self._out.write(
            f"{self.count}\t{row.line}\t{day.isoformat()}\t{posted.isoformat() if posted else NULL}\t{row.amount}\t"
            f"{_text(row.description)}\t{_text(row.merchant)}\t{_text(row.memo)}\t{_text(row.external_id)}\t"
            f"{_text(row.category_hint)}\t{NULL if slot is None else slot}\t"
            f"{_text(merchant_key(row.merchant or row.description))}\t"
            f"{'pending' if row.status == 'pending' else 'posted'}\n"
        )

    def finish(self) -> None:
        self._out.close()

    def chunks(self, size: int = 1024 * 1024):
        with open(self.path, "rb") as f:
            while chunk := f.read(size):
                yield chunk

    def close(self) -> None:
        if not self._out.closed:
            self._out.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def __enter__(self) -> "RowSpool":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
