"""What the bank sync needs from an aggregator, in our own terms: Plaid is the first
implementation (plaid_provider.py); another aggregator implements the same protocol.

Amounts here are still the provider's (Plaid: positive = money out) and floats are
already Decimals; mapping.py turns them into ours."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True)
class LinkToken:
    link_token: str
    expiration: datetime


@dataclass(frozen=True)
class Exchanged:
    access_token: str
    item_id: str


@dataclass(frozen=True)
class ProviderAccount:
    account_id: str
    name: str
    official_name: str | None
    mask: str | None
    type: str  # depository, credit, loan, investment, brokerage, other
    subtype: str | None
    current: Decimal | None
    currency: str | None


@dataclass(frozen=True)
class ProviderItem:
    item_id: str
    institution_id: str | None
    institution_name: str | None
    accounts: list[ProviderAccount]


@dataclass(frozen=True)
class ProviderTransaction:
    transaction_id: str
    account_id: str
    amount: Decimal
    currency: str | None
    date: date
    authorized_date: date | None
    name: str
    merchant_name: str | None
    pending: bool
    pending_transaction_id: str | None
    location: dict[str, Any] | None
    category_primary: str | None
    category_detailed: str | None
    category_confidence: str | None


@dataclass(frozen=True)
class RemovedTransaction:
    transaction_id: str
    account_id: str | None


@dataclass(frozen=True)
class SyncPage:
    added: list[ProviderTransaction]
    modified: list[ProviderTransaction]
    removed: list[RemovedTransaction]
    next_cursor: str
    has_more: bool
    accounts: list[ProviderAccount] = field(default_factory=list)


class ProviderError(Exception):
    """An aggregator call failed. `code` is the provider's error code (never its text in
    an API answer); `retry_after` is set for rate limits."""

    def __init__(self, code: str, *, kind: str = "error", http_status: int | None = None, retry_after: int = 0):
        super().__init__(code)
        self.code = code
        self.kind = kind  # invalid_public_token, login_required, rate_limited, mutation, unavailable, revoked, error
        self.http_status = http_status
        self.retry_after = retry_after


class BankProvider(Protocol):
    name: str

    def create_link_token(
        self, *, client_user_id: str, language: str, access_token: str | None = None
    ) -> LinkToken: ...

    def exchange_public_token(self, public_token: str) -> Exchanged: ...

    def get_item(self, access_token: str) -> ProviderItem: ...

    def sync_page(self, access_token: str, *, cursor: str | None, count: int) -> SyncPage: ...

    def remove_item(self, access_token: str) -> None: ...

    def webhook_verification_key(self, key_id: str) -> dict[str, Any]: ...
