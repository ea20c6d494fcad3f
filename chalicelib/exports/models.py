"""Request and response models of /exports (API.md "Exports")."""

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import ConfigDict, Field

from chalicelib.core.types import PageQuery, RequestModel, ResponseModel, Timestamp

ExportFormat = Literal["csv", "xlsx", "pdf"]
ExportStatus = Literal["pending", "in_progress", "completed", "failed"]


class ExportCreate(RequestModel):
    format: ExportFormat
    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    account_id: UUID | None = None
    family_id: UUID | None = None
    include_archived: bool = False


class ExportCreated(ResponseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    status: ExportStatus
    format: ExportFormat
    created_at: Timestamp


class ExportOut(ResponseModel):
    # `from`/`to` are Python keywords: kept under other names, sent under the contract's.
    model_config = ConfigDict(from_attributes=True, serialize_by_alias=True, populate_by_name=True)

    id: UUID
    status: ExportStatus
    format: ExportFormat
    date_from: date = Field(serialization_alias="from")
    date_to: date = Field(serialization_alias="to")
    account_id: UUID | None
    family_id: UUID | None
    include_archived: bool
    rows: int
    size_bytes: int | None
    file_name: str | None
    download_url: str | None = None
    expires_in: int | None = None
    error_message: str | None = None
    # True once retention removed the file (7 days after the request).
    expired: bool = False
    created_at: Timestamp
    completed_at: Timestamp | None


class ExportPage(ResponseModel):
    items: list[ExportOut]
    next_cursor: str | None


class ExportListQuery(PageQuery):
    """`?limit=&cursor=` of GET /exports."""
