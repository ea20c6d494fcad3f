"""Request and response models of /bank-connections (API.md "Bank connections (Plaid)")."""

from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from chalicelib.core.types import RequestModel, ResponseModel, Timestamp
from chalicelib.ledger.accounts.models import AccountOut
from chalicelib.ledger.accounts.service import to_out

ConnectionStatus = Literal["active", "login_required", "error", "revoked"]


class LinkTokenRequest(RequestModel):
    family_id: UUID | None = None


class LinkTokenOut(ResponseModel):
    link_token: str
    expiration: Timestamp


class ConnectionCreate(RequestModel):
    public_token: str = Field(min_length=1, max_length=500, pattern=r"^[\x21-\x7e]+$")
    family_id: UUID | None = None


class ConnectionQuery(RequestModel):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = None


class InstitutionOut(ResponseModel):
    id: str | None
    name: str | None


class LinkedAccountOut(AccountOut):
    plaid_account_id: str | None
    last_sync_at: Timestamp | None


class ConnectionOut(ResponseModel):
    id: UUID
    provider: Literal["plaid"]
    user_id: UUID
    family_id: UUID | None
    institution: InstitutionOut
    status: ConnectionStatus
    error_code: str | None
    accounts: list[LinkedAccountOut]
    last_sync_at: Timestamp | None
    created_at: Timestamp


class ConnectionList(ResponseModel):
    items: list[ConnectionOut]
    next_cursor: str | None


class SyncAccepted(ResponseModel):
    id: UUID
    status: Literal["sync_requested"]
    requested_at: Timestamp


@dataclass(frozen=True)
class BankConnection:
    """A connection as the use cases answer it: its row and its linked accounts' rows."""

    row: dict[str, Any]
    accounts: list[dict[str, Any]]


def connection_out(connection: BankConnection) -> ConnectionOut:
    """The API's view of a connection: its institution and each linked account as GET /accounts shows it."""
    row = connection.row
    linked = [
        LinkedAccountOut(
            **to_out(a).model_dump(), plaid_account_id=a["plaid_account_id"], last_sync_at=a["last_sync_at"]
        )
        for a in connection.accounts
    ]
    return ConnectionOut(
        **{k: row[k] for k in ("id", "provider", "user_id", "family_id", "status", "error_code", "last_sync_at")},
        created_at=row["created_at"],
        institution=InstitutionOut(id=row["institution_id"], name=row["institution_name"]),
        accounts=linked,
    )
