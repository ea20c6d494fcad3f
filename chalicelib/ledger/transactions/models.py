"""Request and response models of /transactions."""

import json
from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BeforeValidator, Field, field_validator

from chalicelib.core.types import Cursor, Money, NonZeroMoney, RequestModel, ResponseModel, Timestamp, strip_text
from chalicelib.ledger.fields import Currency, IsoDate

Status = Literal["pending", "posted", "cancelled", "disputed"]
Source = Literal["manual", "ml", "plaid", "user_correction"]
Description = Annotated[str, BeforeValidator(strip_text), Field(min_length=1, max_length=1000)]
Merchant = Annotated[str, BeforeValidator(strip_text), Field(max_length=255)]
Notes = Annotated[str, Field(max_length=5000)]
ExternalId = Annotated[str, Field(min_length=1, max_length=255)]
Tag = Annotated[str, BeforeValidator(strip_text), Field(min_length=1, max_length=50)]
MAX_TAGS = 20
MAX_LOCATION_BYTES = 2048


def _unique_tags(tags: list[str] | None) -> list[str] | None:
    return list(dict.fromkeys(tags)) if tags is not None else None


def _small_location(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None and len(json.dumps(value)) > MAX_LOCATION_BYTES:
        raise ValueError(f"must be at most {MAX_LOCATION_BYTES} bytes of JSON")
    return value


Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS), AfterValidator(_unique_tags)]
Location = Annotated[dict[str, Any], AfterValidator(_small_location)]


class TransactionCreate(RequestModel):
    account_id: UUID
    amount: NonZeroMoney
    description: Description
    transaction_date: IsoDate
    merchant: Merchant | None = None
    category_id: UUID | None = None
    status: Status = "posted"
    posted_date: IsoDate | None = None
    currency: Currency | None = None
    location: Location | None = None
    tags: Tags | None = None
    notes: Notes | None = None
    external_id: ExternalId | None = None
    # Accepted for clients that send it; the account decides (API.md). A family the
    # caller is not in is still refused.
    family_id: UUID | None = None


class TransactionPatch(RequestModel):
    account_id: UUID = None
    amount: NonZeroMoney = None
    description: Description = None
    transaction_date: IsoDate = None
    merchant: Merchant | None = None
    category_id: UUID | None = None
    status: Status = None
    posted_date: IsoDate | None = None
    currency: Currency = None
    location: Location | None = None
    tags: Tags | None = None
    notes: Notes | None = None
    external_id: ExternalId | None = None


class TransactionQuery(RequestModel):
    account_id: UUID | None = None
    category_id: UUID | None = None
    family_id: UUID | None = None
    date_from: IsoDate | None = Field(default=None, alias="from")
    date_to: IsoDate | None = Field(default=None, alias="to")
    min_amount: Money | None = None
    max_amount: Money | None = None
    status: Status | None = None
    tag: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    merchant: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    q: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    include_archived: bool = False
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Cursor | None = None


class TransactionOut(ResponseModel):
    id: UUID
    user_id: UUID
    family_id: UUID | None
    account_id: UUID
    category_id: UUID | None
    amount: Money
    currency: str
    description: str
    merchant: str | None
    location: dict[str, Any] | None
    transaction_date: date
    posted_date: date | None
    status: Status
    categorization_source: Source | None
    categorization_confidence: float | None
    tags: list[str]
    notes: str | None
    receipt_url: str | None
    external_id: str | None
    created_at: Timestamp
    updated_at: Timestamp

    @field_validator("tags", mode="before")
    @classmethod
    def _no_null_tags(cls, value: list[str] | None) -> list[str]:
        return value or []


class TransactionList(ResponseModel):
    items: list[TransactionOut]
    next_cursor: str | None


RECEIPT_MAX_BYTES = 10 * 1024 * 1024


class ReceiptUploadRequest(RequestModel):
    content_type: Literal["image/jpeg", "image/png", "application/pdf"]
    # The file's size: signed into the upload URL, so the upload must be exactly this long.
    size: int | None = Field(default=None, ge=1, le=RECEIPT_MAX_BYTES)


class ReceiptUpload(ResponseModel):
    upload_url: str
    key: str
    expires_in: int


class ReceiptDownload(ResponseModel):
    download_url: str
    expires_in: int
