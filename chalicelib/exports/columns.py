"""The transaction columns shared by the CSV file and the XLSX Transactions sheet."""

from collections.abc import Iterator
from uuid import UUID

from chalicelib.exports.report_repo import CategoryInfo

HEADER = (
    "date",
    "posted_date",
    "account",
    "category",
    "description",
    "merchant",
    "amount",
    "currency",
    "status",
    "tags",
    "notes",
    "external_id",
)


def logical_rows(rows: Iterator[tuple], paths: dict[UUID, CategoryInfo]) -> Iterator[tuple]:
    """Database rows (report_repo.stream_transactions) as HEADER-ordered values: the
    category id becomes its full path and tags one comma-separated text."""
    for date_, posted, account, category_id, description, merchant, amount, currency, status, tags, notes, ext in rows:
        info = paths.get(category_id) if category_id is not None else None
        yield (
            date_,
            posted,
            account,
            info.path if info else None,
            description,
            merchant,
            amount,
            currency,
            status,
            ", ".join(tags) if tags else None,
            notes,
            ext,
        )
