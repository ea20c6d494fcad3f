"""Request and response models of /accounts."""

import re
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BeforeValidator, Field, WithJsonSchema

from chalicelib.core.types import Cursor, Money, RequestModel, ResponseModel, Timestamp, strip_text
from chalicelib.ledger.fields import Currency

AccountType = Literal["checking", "savings", "credit_card", "investment", "loan", "other"]
AccountName = Annotated[str, BeforeValidator(strip_text), Field(min_length=1, max_length=100)]
Institution = Annotated[str, BeforeValidator(strip_text), Field(max_length=100)]


def normalize_account_number(value: object) -> object:
    """Digits and letters only (spaces and dashes are presentation), 4 to 34 of them (IBAN length)."""
    if not isinstance(value, str):
        return value
    # ASCII only before upper(): "ß".upper() is "SS", which the document's pattern never allowed.
    cleaned = re.sub(r"[ \t\r\n-]", "", value)
    if not cleaned.isascii():
        raise ValueError("must be 4 to 34 letters or digits (spaces and dashes allowed)")
    cleaned = cleaned.upper()
    if not re.fullmatch(r"[A-Z0-9]{4,34}", cleaned):
        raise ValueError("must be 4 to 34 letters or digits (spaces and dashes allowed)")
    return cleaned


AccountNumber = Annotated[
    str,
    BeforeValidator(normalize_account_number),
    WithJsonSchema(
        {"type": "string", "pattern": "^[ \\t\\r\\n-]*([A-Za-z0-9][ \\t\\r\\n-]*){4,34}$"}, mode="validation"
    ),
]


class AccountCreate(RequestModel):
    name: AccountName
    type: AccountType
    institution: Institution | None = None
    account_number: AccountNumber | None = None
    currency: Currency = "USD"
    family_id: UUID | None = None
    opening_balance: Money = Decimal("0.00")
    allow_negative: bool = False


class AccountPatch(RequestModel):
    name: AccountName = None
    type: AccountType = None
    institution: Institution | None = None
    account_number: AccountNumber | None = None
    currency: Currency = None
    family_id: UUID | None = None
    opening_balance: Money = None
    allow_negative: bool = None
    is_active: bool = None


class AccountQuery(RequestModel):
    family_id: UUID | None = None
    include_inactive: bool = False
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Cursor | None = None


class AccountOut(ResponseModel):
    id: UUID
    user_id: UUID
    family_id: UUID | None
    name: str
    type: AccountType
    institution: str | None
    account_number_masked: str | None
    balance: Money
    opening_balance: Money
    currency: str
    allow_negative: bool
    is_active: bool
    created_at: Timestamp
    updated_at: Timestamp


def to_out(row: dict[str, Any]) -> AccountOut:
    """The account as the API shows it: the number only as "****1234"."""
    last4 = row.get("account_number_last4")
    return AccountOut(**row, account_number_masked=f"****{last4}" if last4 else None)


class AccountList(ResponseModel):
    items: list[AccountOut]
    next_cursor: str | None
