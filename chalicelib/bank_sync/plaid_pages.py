"""/transactions/sync pages read without plaid-python's generated models.

Measured here: the client's models took 12-18 ms per transaction (a 500-row page 6-9 s,
under 100 rows/s), against a 5,000 rows/s goal. The page still travels through
plaid-python (configuration, authentication, errors); only its body is parsed and
validated in one pass by these strict pydantic models of the fields the sync reads
(pydantic-core's JSON parser: a third of json.loads + model_validate here). Amounts are
JSON numbers, i.e. doubles, read as the client reads them (the shortest text of the
double): exact for every amount NUMERIC(15,2) can hold. PLAID_TYPED_SYNC_PAGES=true goes
through the client's models instead (the tests do, so the fake server's shapes are
checked by the client itself)."""

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from chalicelib.bank_sync.provider import ProviderAccount, ProviderTransaction, RemovedTransaction, SyncPage

LOCATION_FIELDS = ("address", "city", "region", "postal_code", "country", "lat", "lon", "store_number")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Category(_Model):
    primary: str
    detailed: str
    confidence_level: str | None = None


class _Transaction(_Model):
    transaction_id: str
    account_id: str
    amount: Decimal
    iso_currency_code: str | None
    unofficial_currency_code: str | None
    date: date
    authorized_date: date | None = None
    name: str | None = None
    merchant_name: str | None = None
    pending: bool
    pending_transaction_id: str | None = None
    location: dict[str, Any] | None = None
    personal_finance_category: _Category | None = None


class _Removed(_Model):
    transaction_id: str
    account_id: str | None = None


class _Balances(_Model):
    current: Decimal | None
    iso_currency_code: str | None
    unofficial_currency_code: str | None


class _Account(_Model):
    account_id: str
    name: str
    official_name: str | None = None
    mask: str | None = None
    type: str
    subtype: str | None = None
    balances: _Balances


class _Page(_Model):
    added: list[_Transaction]
    modified: list[_Transaction]
    removed: list[_Removed]
    next_cursor: str
    has_more: bool
    accounts: list[_Account] = []


def _transaction(t: _Transaction) -> ProviderTransaction:
    category = t.personal_finance_category
    # Coordinates stay JSON numbers in the location column (the search index reads them as a geo_point).
    location = None
    if t.location:
        location = {k: v for k, v in t.location.items() if v is not None and k in LOCATION_FIELDS} or None
    return ProviderTransaction(
        transaction_id=t.transaction_id,
        account_id=t.account_id,
        amount=t.amount,
        currency=t.iso_currency_code or t.unofficial_currency_code,
        date=t.date,
        authorized_date=t.authorized_date,
        name=t.name or t.merchant_name or "(no description)",
        merchant_name=t.merchant_name,
        pending=t.pending,
        pending_transaction_id=t.pending_transaction_id,
        location=location,
        category_primary=category.primary if category else None,
        category_detailed=category.detailed if category else None,
        category_confidence=category.confidence_level if category else None,
    )


def parse_page(raw: bytes) -> SyncPage:
    page = _Page.model_validate_json(raw)
    return SyncPage(
        added=[_transaction(t) for t in page.added],
        modified=[_transaction(t) for t in page.modified],
        removed=[RemovedTransaction(r.transaction_id, r.account_id) for r in page.removed],
        next_cursor=page.next_cursor,
        has_more=page.has_more,
        accounts=[
            ProviderAccount(
                account_id=a.account_id, name=a.name, official_name=a.official_name, mask=a.mask, type=a.type,
                subtype=a.subtype, current=a.balances.current,
                currency=a.balances.iso_currency_code or a.balances.unofficial_currency_code,
            )
            for a in page.accounts
        ],
    )  # fmt: skip
