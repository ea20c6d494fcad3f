"""Request and response models of the imports API (API.md "Imports")."""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, field_validator, model_validator

from chalicelib.core.types import PageQuery, RequestModel, ResponseModel, Timestamp

ImportFormat = Literal["csv", "ofx", "qfx", "qif"]
# Statement files, and the runs of bank sync that data_sync_logs records beside them.
SyncType = Literal["csv_import", "plaid"]
ImportStatus = Literal["pending", "in_progress", "preview", "completed", "failed"]
# A column by its header name, or by position counted from 1.
ColumnRef = Annotated[str, Field(min_length=1, max_length=100)] | Annotated[int, Field(ge=1, le=500)]


_MONEY_FIELDS = {"amount", "debit", "credit", "direction", "invert_sign", "delimiter", "decimal_separator"}


class ColumnMapping(RequestModel):
    """Where an unusual CSV layout keeps what, and which statement of a file that holds
    several is the account's; saved for the account and used for its next files."""

    account: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="OFX/QIF files with several statements: the account id of the statement to import",
    )
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
        # Naming the statement alone is a whole mapping (OFX/QIF); any CSV column makes it a CSV one.
        csv_fields = self.model_fields_set - {"account"}
        if self.account is not None and not csv_fields:
            return self
        money = self.amount is not None or self.debit is not None or self.credit is not None
        if not money:
            raise ValueError("a mapping needs the amount column, or debit and credit columns")
        # Naming only the money (what a mapping_required answer asks for) keeps the rest of
        # the layout as detected; a mapping that names the date describes the whole layout.
        if self.date is None and csv_fields - _MONEY_FIELDS:
            raise ValueError("a mapping that names other columns than the money needs the date column")
        if self.date is not None and self.description is None and self.payee is None and self.memo is None:
            raise ValueError("a mapping needs a description, payee or memo column")
        return self


class ImportCreate(RequestModel):
    account_id: UUID
    filename: str = Field(min_length=1, max_length=255)
    format: ImportFormat | None = None
    mapping: ColumnMapping | None = None
    preview: bool = Field(
        default=False,
        description="read the file when it lands and stop at status preview; POST /imports/{id}/confirm books it",
    )
    # Signed into the upload URL when given (issue 16): storage that checks signatures then
    # refuses an upload of another type or length. `size` is at most IMPORT_MAX_BYTES.
    content_type: str | None = Field(default=None, min_length=3, max_length=100, pattern=r"^[\w.+-]+/[\w.+-]+$")
    size: int | None = Field(default=None, ge=1)

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
    # A bank sync's warnings name a transaction, not a line of a file: line is null there.
    line: int | None = None
    message: str
    transaction_id: str | None = Field(default=None, description="bank sync: the provider's transaction id")


class ImportSkipped(BaseModel):
    line: int
    reason: str


class ImportPreviewRow(BaseModel):
    line: int
    date: str
    posted_date: str | None
    amount: str = Field(description="decimal string, signed: negative is money out")
    description: str
    merchant: str | None
    memo: str | None
    external_id: str | None
    status: Literal["posted", "pending"]


ErrorCode = Annotated[
    str,
    Field(
        description="why a failed import failed: invalid_file, mapping_required (see candidates), "
        "account_not_writable, uploader_not_allowed (never confirmable), balance_below_zero, internal_error, "
        "unavailable (a confirm met an outage), "
        "stale (in progress too long)"
    ),
]


class ImportConfirm(RequestModel):
    mapping: ColumnMapping | None = None


class ImportOut(ResponseModel):
    id: UUID
    account_id: UUID | None
    status: ImportStatus
    sync_type: SyncType
    file_key: str | None
    transactions_added: int
    transactions_updated: int
    transactions_deleted: int
    duplicates_skipped: int
    started_at: Timestamp
    completed_at: Timestamp | None
    error_message: str | None
    error_code: ErrorCode | None
    errors: list[ImportLineError]
    layout: dict[str, Any] | None = Field(
        description="what reading the file decided: format, encoding, delimiter, header_line, "
        "columns {role: {column, because}}, date_order, decimal_separator, sign_convention, checked_against_balance"
    )
    skipped: list[ImportSkipped] = Field(description="lines read but not transactions (balances, summaries, totals)")
    warnings: list[str]
    candidates: list[dict[str, Any]] | None = Field(
        description="for mapping_required: the possible readings, each with at least role, column and meaning"
    )
    preview_rows: list[ImportPreviewRow] | None = Field(description="previews: the first 20 rows as read")


class ImportPage(BaseModel):
    items: list[ImportOut]
    next_cursor: str | None


class ImportListQuery(PageQuery):
    account_id: UUID | None = None
    status: ImportStatus | None = None
    sync_type: SyncType = Field(default="csv_import", description="plaid: the runs of bank sync (API.md)")


def import_out(row: dict) -> ImportOut:
    metadata = row["metadata"] or {}
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
        error_code=row["error_code"],
        errors=row["errors"] or [],
        layout=metadata.get("layout"),
        skipped=metadata.get("skipped") or [],
        warnings=metadata.get("warnings") or [],
        candidates=metadata.get("candidates"),
        preview_rows=metadata.get("preview_rows"),
    )


class DropCredentialsIn(RequestModel):
    account_id: UUID | None = Field(default=None, description="Confine the credentials to this account's folder")


class DropCredentialsOut(ResponseModel):
    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: datetime
    bucket: str
    prefix: str
