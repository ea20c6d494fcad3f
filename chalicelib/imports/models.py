"""Request and response models of the imports API (API.md "Imports")."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field, field_validator, model_validator

from chalicelib.api.types import Cursor, RequestModel, ResponseModel, Timestamp

ImportFormat = Literal["csv", "ofx", "qfx", "qif"]
ImportStatus = Literal["pending", "in_progress", "completed", "failed"]
# A column by its header name, or by position counted from 1.
ColumnRef = Annotated[str, Field(min_length=1, max_length=100)] | Annotated[int, Field(ge=1, le=500)]


class ColumnMapping(RequestModel):
    """Where an unusual CSV layout keeps what; saved for the account and used for its next files."""

    delimiter: Literal[",", ";", "\t", "|"] | None = None
    has_header: bool | None = None
    skip_lines: int = Field(default=0, ge=0, le=100, description="lines before the header (or first row)")
    date: ColumnRef | None = None
    posted_date: ColumnRef | None = None
    description: ColumnRef | None = None
    payee: ColumnRef | None = None
    memo: ColumnRef | None = None
    amount: ColumnRef | None = None
    debit: ColumnRef | None = None
    credit: ColumnRef | None = None
    direction: ColumnRef | None = None
    category: ColumnRef | None = None
    reference: ColumnRef | None = None
    balance: ColumnRef | None = None
    currency: ColumnRef | None = None
    date_format: Literal["ymd", "dmy", "mdy"] | None = None
    decimal_separator: Literal[",", "."] | None = None
    invert_sign: bool = Field(default=False, description="the file shows spending as positive amounts")

    @model_validator(mode="after")
    def _complete(self) -> "ColumnMapping":
        if self.date is None:
            raise ValueError("a mapping needs the date column")
        if self.amount is None and self.debit is None and self.credit is None:
            raise ValueError("a mapping needs the amount column, or debit and credit columns")
        if self.description is None and self.payee is None and self.memo is None:
            raise ValueError("a mapping needs a description, payee or memo column")
        return self


class ImportCreate(RequestModel):
    account_id: UUID
    filename: str = Field(min_length=1, max_length=255)
    format: ImportFormat | None = None
    mapping: ColumnMapping | None = None

    @field_validator("filename")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if value != value.strip() or value in (".", "..") or any(c in value for c in "/\\") or not value.isprintable():
            raise ValueError("must be a plain file name (no slashes, control characters or surrounding spaces)")
        return value


class ImportUpload(ResponseModel):
    import_id: UUID
    upload_url: str
    key: str
    expires_in: int


class ImportLineError(BaseModel):
    line: int
    message: str


class ImportOut(ResponseModel):
    id: UUID
    account_id: UUID | None
    status: ImportStatus
    sync_type: Literal["csv_import"]
    file_key: str | None
    transactions_added: int
    transactions_updated: int
    transactions_deleted: int
    duplicates_skipped: int
    started_at: Timestamp
    completed_at: Timestamp | None
    error_message: str | None
    errors: list[ImportLineError]


class ImportPage(BaseModel):
    items: list[ImportOut]
    next_cursor: str | None


class ImportListQuery(RequestModel):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Cursor | None = None
    account_id: UUID | None = None
    status: ImportStatus | None = None


def import_out(row: dict) -> ImportOut:
    return ImportOut(
        id=row["id"],
        account_id=row["account_id"],
        status=row["status"],
        sync_type=row["sync_type"],
        file_key=row["file_key"],
        transactions_added=row["transactions_added"] or 0,
        transactions_updated=row["transactions_updated"] or 0,
        transactions_deleted=row["transactions_deleted"] or 0,
        duplicates_skipped=row["duplicates_skipped"] or 0,
        started_at=row["started_at"],
        completed_at=row["completed_at"],
        error_message=row["error_message"],
        errors=row["errors"] or [],
    )


def cursor_key(row: dict) -> list:
    created: datetime = row["created_at"]
    return [created.isoformat(), str(row["id"])]
