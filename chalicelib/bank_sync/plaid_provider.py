"""The Plaid implementation of BankProvider, through the official plaid-python client.

plaid-python is imported only when a bank route or job first needs it (its API module
alone pulls in thousands of generated model classes): `import app` stays as light as it
was. Every response goes through the client's own models, so a shape Plaid changes is
caught here, not deep in the sync."""

from decimal import Decimal
from functools import lru_cache
from typing import Any

from chalicelib.bank_sync.provider import (
    Exchanged,
    LinkToken,
    ProviderAccount,
    ProviderError,
    ProviderItem,
    ProviderTransaction,
    RemovedTransaction,
    SyncPage,
)
from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings

PLAID_HOSTS = {"sandbox": "https://sandbox.plaid.com", "production": "https://production.plaid.com"}
_KIND_BY_CODE = {
    "INVALID_PUBLIC_TOKEN": "invalid_public_token",
    "ITEM_LOGIN_REQUIRED": "login_required",
    "RATE_LIMIT_EXCEEDED": "rate_limited",
    "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION": "mutation",
    "ITEM_NOT_FOUND": "revoked",
    "INVALID_ACCESS_TOKEN": "revoked",
    "USER_PERMISSION_REVOKED": "revoked",
    "ACCESS_NOT_GRANTED": "revoked",
}
LOCATION_FIELDS = ("address", "city", "region", "postal_code", "country", "lat", "lon", "store_number")


def _decimal(value: Any) -> Decimal | None:
    # repr is the shortest text that round-trips the float Plaid's JSON became: 12.34, not 12.339999…
    return None if value is None else Decimal(repr(float(value)))


def _error(exc: Exception) -> ProviderError:
    """A client exception as a ProviderError carrying Plaid's code, never its message."""
    import json

    from plaid.exceptions import ApiException

    if not isinstance(exc, ApiException):
        return ProviderError(type(exc).__name__, kind="unavailable")
    try:
        body = json.loads(exc.body or b"{}")
    except (TypeError, ValueError):
        body = {}
    code = str(body.get("error_code") or f"HTTP_{exc.status}")
    kind = _KIND_BY_CODE.get(code)
    if kind is None:
        kind = "unavailable" if (exc.status or 500) >= 500 or body.get("error_type") == "API_ERROR" else "error"
    if body.get("error_type") == "RATE_LIMIT_EXCEEDED":
        kind = "rate_limited"
    retry_after = 0
    for name, value in dict(exc.headers or {}).items():
        if name.lower() == "retry-after" and str(value).isdigit():
            retry_after = int(value)
    logger.warning(
        "plaid call failed",
        extra={"plaid_error_code": code, "plaid_error_type": body.get("error_type"), "status": exc.status,
               "plaid_request_id": body.get("request_id")},
    )  # fmt: skip
    return ProviderError(code, kind=kind, http_status=exc.status, retry_after=retry_after)


@lru_cache(maxsize=4)
def _api(host: str, client_id: str, secret: str):
    import plaid
    from plaid.api import plaid_api

    configuration = plaid.Configuration(
        host=host, api_key={"clientId": client_id, "secret": secret, "plaidVersion": "2020-09-14"}
    )
    return plaid_api.PlaidApi(plaid.ApiClient(configuration))


def _account(model) -> ProviderAccount:
    balances = model.balances
    return ProviderAccount(
        account_id=model.account_id,
        name=model.name,
        official_name=model.get("official_name"),
        mask=model.get("mask"),
        type=str(model.type),
        subtype=str(model.subtype) if model.get("subtype") is not None else None,
        current=_decimal(balances.get("current")),
        currency=balances.get("iso_currency_code") or balances.get("unofficial_currency_code"),
    )


def _location(model) -> dict[str, Any] | None:
    if model is None:
        return None
    values = {name: model.get(name) for name in LOCATION_FIELDS}
    values = {k: v for k, v in values.items() if v is not None}
    return values or None


def _transaction(model) -> ProviderTransaction:
    category = model.get("personal_finance_category")
    return ProviderTransaction(
        transaction_id=model.transaction_id,
        account_id=model.account_id,
        amount=_decimal(model.amount),
        currency=model.get("iso_currency_code") or model.get("unofficial_currency_code"),
        date=model.date,
        authorized_date=model.get("authorized_date"),
        name=model.get("name") or model.get("merchant_name") or "(no description)",
        merchant_name=model.get("merchant_name"),
        pending=bool(model.pending),
        pending_transaction_id=model.get("pending_transaction_id"),
        location=_location(model.get("location")),
        category_primary=category.primary if category is not None else None,
        category_detailed=category.detailed if category is not None else None,
        category_confidence=category.get("confidence_level") if category is not None else None,
    )


class PlaidProvider:
    name = "plaid"

    def __init__(self) -> None:
        settings = get_settings()
        host = settings.plaid_base_url or PLAID_HOSTS[settings.plaid_env]
        self._client = _api(host.rstrip("/"), settings.plaid_client_id, settings.plaid_secret.get_secret_value())
        self._timeout = settings.plaid_timeout_seconds
        self._settings = settings

    def _call(self, method: str, request, **options):
        try:
            return getattr(self._client, method)(request, _request_timeout=self._timeout, **options)
        except Exception as exc:  # the client's ApiException, urllib3's errors, a model that failed to parse
            raise _error(exc) from None

    def create_link_token(self, *, client_user_id: str, language: str, access_token: str | None = None) -> LinkToken:
        from plaid.model.country_code import CountryCode
        from plaid.model.link_token_create_request import LinkTokenCreateRequest
        from plaid.model.link_token_create_request_user import LinkTokenCreateRequestUser
        from plaid.model.products import Products

        fields: dict[str, Any] = {
            "user": LinkTokenCreateRequestUser(client_user_id=client_user_id),
            "client_name": self._settings.plaid_client_name,
            "country_codes": [CountryCode(c.strip()) for c in self._settings.plaid_country_codes.split(",")],
            "language": language,
        }
        if self._settings.plaid_webhook_url:
            fields["webhook"] = self._settings.plaid_webhook_url
        if access_token is None:
            fields["products"] = [Products("transactions")]
        else:
            fields["access_token"] = access_token  # update mode: repair the item's login
        response = self._call("link_token_create", LinkTokenCreateRequest(**fields))
        return LinkToken(link_token=response.link_token, expiration=response.expiration)

    def exchange_public_token(self, public_token: str) -> Exchanged:
        from plaid.model.item_public_token_exchange_request import ItemPublicTokenExchangeRequest

        response = self._call("item_public_token_exchange", ItemPublicTokenExchangeRequest(public_token=public_token))
        return Exchanged(access_token=response.access_token, item_id=response.item_id)

    def get_item(self, access_token: str) -> ProviderItem:
        from plaid.model.accounts_get_request import AccountsGetRequest

        response = self._call("accounts_get", AccountsGetRequest(access_token=access_token))
        item = response.item
        return ProviderItem(
            item_id=item.item_id,
            institution_id=item.get("institution_id"),
            institution_name=item.get("institution_name"),
            accounts=[_account(a) for a in response.accounts],
        )

    def sync_page(self, access_token: str, *, cursor: str | None, count: int) -> SyncPage:
        from plaid.model.transactions_sync_request import TransactionsSyncRequest
        from plaid.model.transactions_sync_request_options import TransactionsSyncRequestOptions

        fields: dict[str, Any] = {
            "access_token": access_token,
            "count": count,
            "options": TransactionsSyncRequestOptions(include_personal_finance_category=True),
        }
        if cursor:
            fields["cursor"] = cursor
        if not self._settings.plaid_typed_sync_pages:
            from chalicelib.bank_sync.plaid_pages import parse_page

            raw = self._call("transactions_sync", TransactionsSyncRequest(**fields), _preload_content=False)
            try:
                return parse_page(raw.data)
            except ValueError as exc:  # pydantic's ValidationError is one
                logger.warning("plaid sync page not understood", extra={"error": str(exc)[:500]})
                raise ProviderError("UNEXPECTED_RESPONSE", kind="unavailable") from None
        response = self._call("transactions_sync", TransactionsSyncRequest(**fields))
        return SyncPage(
            added=[_transaction(t) for t in response.added],
            modified=[_transaction(t) for t in response.modified],
            removed=[RemovedTransaction(r.transaction_id, r.get("account_id")) for r in response.removed],
            next_cursor=response.next_cursor,
            has_more=bool(response.has_more),
            accounts=[_account(a) for a in response.get("accounts", [])],
        )

    def remove_item(self, access_token: str) -> None:
        from plaid.model.item_remove_request import ItemRemoveRequest

        self._call("item_remove", ItemRemoveRequest(access_token=access_token))

    def webhook_verification_key(self, key_id: str) -> dict[str, Any]:
        from plaid.model.webhook_verification_key_get_request import WebhookVerificationKeyGetRequest

        response = self._call("webhook_verification_key_get", WebhookVerificationKeyGetRequest(key_id=key_id))
        return response.key.to_dict()
