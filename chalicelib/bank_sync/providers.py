"""Which aggregator serves bank connections, and the refusal when none is configured."""

from chalicelib.bank_sync.provider import BankProvider
from chalicelib.errors import DomainError
from chalicelib.infra import crypto
from chalicelib.infra.settings import get_settings

TOKEN_CONTEXT = "bank_connections.access_token"


class BankSyncNotConfigured(DomainError):
    status = 503
    code = "bank_sync_not_configured"

    def __init__(self) -> None:
        super().__init__("Bank connections are not configured on this server (PLAID_CLIENT_ID, PLAID_SECRET)")


def require_configured() -> None:
    if not get_settings().bank_sync_configured:
        raise BankSyncNotConfigured()


def provider() -> BankProvider:
    """The configured provider; 503 bank_sync_not_configured without its settings."""
    require_configured()
    from chalicelib.bank_sync.plaid_provider import PlaidProvider

    return PlaidProvider()


def seal_token(access_token: str) -> bytes:
    return crypto.encrypt(access_token, context=TOKEN_CONTEXT)


def open_token(blob: bytes) -> str:
    return crypto.decrypt(blob, context=TOKEN_CONTEXT)
