import json
from decimal import Decimal

import pytest

from tests.bank_sync.fake_plaid import CLIENT_ID, SECRET, FakePlaid


def _reset_caches():
    from chalicelib.bank_sync import plaid_provider, webhooks
    from chalicelib.infra.settings import get_settings

    get_settings.cache_clear()
    plaid_provider._api.cache_clear()
    webhooks._keys.clear()


@pytest.fixture
def fake_plaid(monkeypatch):
    """A fresh Plaid-compatible server on 127.0.0.1 and the settings that point the app at it."""
    fake = FakePlaid().start()
    for name, value in {
        "PLAID_CLIENT_ID": CLIENT_ID,
        "PLAID_SECRET": SECRET,
        "PLAID_ENV": "sandbox",
        "PLAID_BASE_URL": fake.url,
        "PLAID_WEBHOOK_URL": "https://api.example.test/webhooks/plaid",
        "BANK_SYNC_PAGE_SIZE": "5",
        # Every page through the client's own models: the fake's shapes are checked by plaid-python.
        "PLAID_TYPED_SYNC_PAGES": "true",
    }.items():
        monkeypatch.setenv(name, value)
    _reset_caches()
    yield fake
    fake.stop()
    monkeypatch.undo()
    _reset_caches()


@pytest.fixture
def unconfigured(monkeypatch):
    for name in ("PLAID_CLIENT_ID", "PLAID_SECRET", "PLAID_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    _reset_caches()
    yield
    monkeypatch.undo()
    _reset_caches()


def post(client, path, body=None, headers=None):
    return client.http.post(path, body=json.dumps(body or {}), headers=headers)


def link(client, fake, user, *, family_id=None, accounts=None, institution="First Platypus Bank"):
    """A person completes Link and the app exchanges the public token; returns (response json, fake item)."""
    token = fake.create_item(accounts=accounts, institution=institution)
    body = {"public_token": token} | ({"family_id": str(family_id)} if family_id else {})
    response = post(client, "/bank-connections", body, user["headers"])
    assert response.status_code == 201, response.body
    return response.json_body, fake.item_of(token)


def sync(connection_id):
    """What the background function does for a requested sync."""
    from uuid import UUID

    from chalicelib.bank_sync.sync import sync_connection

    return sync_connection(connection_id=UUID(str(connection_id)), reason="test")


def account_state(conn, account_id):
    return conn.execute(
        "SELECT balance, opening_balance, last_sync_at FROM accounts WHERE id = %s", (account_id,)
    ).fetchone()


def assert_balance_is_plaids(conn, fake, item, account_id, index=0):
    balance = account_state(conn, account_id)["balance"]
    acc = item.accounts[index]
    plaid = fake.current_balance(item, index)
    ours = -plaid if acc.type in ("credit", "loan") else plaid
    assert balance == Decimal(ours).quantize(Decimal("0.01")), (balance, plaid)
