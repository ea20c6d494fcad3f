"""A small stateful Plaid-compatible server for the tests, on 127.0.0.1.

It speaks the endpoints the bank sync uses with Plaid's request and response shapes
(link/token/create, item/public_token/exchange, accounts/get, transactions/sync with
cursors and pages, item/remove, webhook_verification_key/get) and Plaid's error body, and
signs webhooks with a real ES256 key. The app reaches it through plaid-python itself
(PLAID_BASE_URL), so every answer goes through the client's own models.

Transactions live per item in an append-only change log; a cursor is a position in it.
A change made while a client is between pages (has_more was true) makes its next
/transactions/sync fail once with TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION."""

import base64
import hashlib
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from tests.bank_sync.plaid_shapes import PlaidFailure, handler_for, transaction_json

CLIENT_ID = "fake-client-id"
SECRET = "fake-secret"


def _b64(n: int) -> str:
    return base64.urlsafe_b64encode(n.to_bytes(32, "big")).decode().rstrip("=")


@dataclass
class Account:
    account_id: str
    name: str
    type: str
    subtype: str | None
    mask: str
    base: Decimal  # balance before any transaction, in Plaid's terms (owed for credit/loan)
    currency: str = "USD"


@dataclass
class Item:
    item_id: str
    institution_id: str
    institution_name: str
    accounts: list[Account]
    access_token: str | None = None
    error_code: str | None = None
    removed: bool = False
    transactions: dict[str, dict] = field(default_factory=dict)
    totals: dict[str, Decimal] = field(default_factory=dict)  # account_id -> sum of its live amounts
    log: list[tuple[str, str, dict]] = field(default_factory=list)  # (kind, transaction_id, snapshot)
    paginating: bool = False
    mutated_while_paginating: bool = False


class FakePlaid:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.public_tokens: dict[str, str | None] = {}  # token -> item_id (None once exchanged)
        self.token_items: dict[str, str] = {}
        self.serve_seconds = 0.0
        self.calls: list[str] = []
        self.failures: list[tuple[str, int, PlaidFailure]] = []  # (endpoint, calls to let through, failure)
        self.after_sync_page: list = []  # callables run once after a sync page is served
        self.link_tokens: list[dict] = []
        self.sync_lists_accounts = True  # False: sync pages carry no accounts (Plaid lists only some)
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.kid = f"kid-{uuid.uuid4().hex[:8]}"
        self.key_created = int(time.time())
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "FakePlaid":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what a test arranges ----------------------------------------------------------

    def create_item(self, *, institution: str = "First Platypus Bank", accounts: list[dict] | None = None) -> str:
        """A new item (as if a person finished Link); returns its public token."""
        with self._lock:
            item_id = f"item-{uuid.uuid4().hex[:12]}"
            specs = accounts or [{"name": "Plaid Checking", "type": "depository", "subtype": "checking"}]
            item = Item(
                item_id=item_id,
                institution_id="ins_109508",
                institution_name=institution,
                accounts=[
                    Account(
                        account_id=f"acc-{uuid.uuid4().hex[:12]}",
                        name=s["name"],
                        type=s["type"],
                        subtype=s.get("subtype"),
                        mask=s.get("mask", f"{1000 + next(self._ids) % 9000}"),
                        base=Decimal(str(s.get("base", "1000.00"))),
                        currency=s.get("currency", "USD"),
                    )
                    for s in specs
                ],
            )
            self.items[item_id] = item
            token = f"public-sandbox-{uuid.uuid4()}"
            self.public_tokens[token] = item_id
            self.token_items[token] = item_id
            return token

    def open_account(self, item: Item, *, name: str, type: str = "credit", subtype: str | None = "credit card",
                     base: str = "0.00") -> Account:  # fmt: skip
        """The person opens another account at the bank after linking: Plaid reports it on the same item."""
        with self._lock:
            account = Account(account_id=f"acc-{uuid.uuid4().hex[:12]}", name=name, type=type, subtype=subtype,
                              mask=f"{1000 + next(self._ids) % 9000}", base=Decimal(base))  # fmt: skip
            item.accounts.append(account)
            return account

    def item_of(self, public_token: str) -> Item:
        return self.items[self.token_items[public_token]]

    def _mutate(self, item: Item, kind: str, txn: dict) -> None:
        item.log.append((kind, txn["transaction_id"], dict(txn)))
        if item.paginating:
            item.mutated_while_paginating = True

    def add(
        self,
        item: Item,
        account: Account | int = 0,
        *,
        amount: str,
        name: str = "Purchase",
        day: date | None = None,
        pending: bool = False,
        pending_transaction_id: str | None = None,
        merchant: str | None = None,
        category: tuple[str, str, str] | None = None,
        location: dict | None = None,
        currency: str | None = None,
        account_id: str | None = None,
    ) -> str:
        with self._lock:
            acc = item.accounts[account] if isinstance(account, int) else account
            txn_id = f"txn-{uuid.uuid4().hex[:16]}"
            txn = {
                "transaction_id": txn_id,
                "account_id": account_id or acc.account_id,
                "amount": Decimal(amount),
                "iso_currency_code": currency or acc.currency,
                "date": (day or date.today()).isoformat(),
                "name": name,
                "merchant_name": merchant,
                "pending": pending,
                "pending_transaction_id": pending_transaction_id,
                "category": category,
                "location": location,
            }
            item.transactions[txn_id] = txn
            item.totals[txn["account_id"]] = item.totals.get(txn["account_id"], Decimal(0)) + txn["amount"]
            self._mutate(item, "added", txn)
            return txn_id

    def modify(self, item: Item, txn_id: str, **changes: Any) -> None:
        with self._lock:
            txn = item.transactions[txn_id]
            if "amount" in changes:
                changes["amount"] = Decimal(changes["amount"])
            item.totals[txn["account_id"]] -= txn["amount"]
            txn.update(changes)
            item.totals[txn["account_id"]] = item.totals.get(txn["account_id"], Decimal(0)) + txn["amount"]
            self._mutate(item, "modified", txn)

    def remove(self, item: Item, txn_id: str) -> None:
        with self._lock:
            txn = item.transactions.pop(txn_id)
            item.totals[txn["account_id"]] -= txn["amount"]
            self._mutate(item, "removed", txn)

    def post(self, item: Item, pending_id: str, *, amount: str | None = None) -> str:
        """The bank posts a pending transaction: a new id naming the pending one, which is removed."""
        with self._lock:
            pending = item.transactions[pending_id]
            posted = self.add(
                item,
                0,
                amount=amount or str(pending["amount"]),
                name=pending["name"],
                merchant=pending["merchant_name"],
                pending_transaction_id=pending_id,
                account_id=pending["account_id"],
                day=date.fromisoformat(pending["date"]),
            )
            self.remove(item, pending_id)
            return posted

    def fail(
        self,
        endpoint: str,
        *,
        after: int = 0,
        status: int = 400,
        error_type: str = "API_ERROR",
        error_code: str = "INTERNAL_SERVER_ERROR",
    ) -> None:
        """The next call of `endpoint` after `after` successful ones fails once like this."""
        self.failures.append((endpoint, after, PlaidFailure(status, error_type, error_code)))

    def current_balance(self, item: Item, account: int = 0) -> Decimal:
        """What Plaid reports as current: funds for depository, the amount owed for credit and loans."""
        acc = item.accounts[account]
        total = item.totals.get(acc.account_id, Decimal(0))  # kept as transactions change: a page stays O(page)
        return acc.base + total if acc.type in ("credit", "loan") else acc.base - total

    def jwk(self) -> dict[str, Any]:
        numbers = self._key.public_key().public_numbers()
        return {
            "alg": "ES256",
            "crv": "P-256",
            "kid": self.kid,
            "kty": "EC",
            "use": "sig",
            "x": _b64(numbers.x),
            "y": _b64(numbers.y),
            "created_at": self.key_created,
            "expired_at": None,
        }

    def webhook(
        self,
        item: Item,
        webhook_type: str,
        webhook_code: str,
        *,
        iat: float | None = None,
        key=None,
        alg: str = "ES256",
        kid: str | None = None,
        **extra: Any,
    ) -> tuple[bytes, dict[str, str]]:
        """A webhook body and its headers, signed as Plaid signs them."""
        body = json.dumps(
            {
                "webhook_type": webhook_type,
                "webhook_code": webhook_code,
                "item_id": item.item_id,
                "environment": "sandbox",
                **extra,
            }
        ).encode()
        claims = {
            "iat": int(iat if iat is not None else time.time()),
            "request_body_sha256": hashlib.sha256(body).hexdigest(),
        }
        signing_key = key if key is not None else self._key
        token = jwt.encode(claims, signing_key, algorithm=alg, headers={"kid": kid or self.kid})
        return body, {"Content-Type": "application/json", "Plaid-Verification": token}

    # --- the endpoints ------------------------------------------------------------------

    def handle(self, path: str, body: dict, headers: dict) -> dict:
        started = time.perf_counter()
        try:
            return self._handle(path, body, headers)
        finally:
            self.serve_seconds += time.perf_counter() - started

    def _handle(self, path: str, body: dict, headers: dict) -> dict:
        with self._lock:
            self.calls.append(path)
            for n, (endpoint, after, failure) in enumerate(self.failures):
                if endpoint == path:
                    if after == 0:
                        del self.failures[n]
                        raise failure
                    self.failures[n] = (endpoint, after - 1, failure)
                    break
            if headers.get("plaid-client-id") != CLIENT_ID or headers.get("plaid-secret") != SECRET:
                raise PlaidFailure(400, "INVALID_INPUT", "INVALID_API_KEYS")
            handler = {
                "/link/token/create": self._link_token_create,
                "/item/public_token/exchange": self._exchange,
                "/accounts/get": self._accounts_get,
                "/transactions/sync": self._transactions_sync,
                "/item/remove": self._item_remove,
                "/webhook_verification_key/get": self._verification_key,
            }.get(path)
            if handler is None:
                raise PlaidFailure(404, "INVALID_REQUEST", "UNKNOWN_ROUTE")
            response = handler(body)
            response["request_id"] = uuid.uuid4().hex[:15]
            return response

    def _item_by_token(self, body: dict, *, allow_error: bool = False) -> Item:
        token = body.get("access_token")
        item = next((i for i in self.items.values() if i.access_token and i.access_token == token), None)
        if item is None or item.removed:
            raise PlaidFailure(400, "INVALID_INPUT", "INVALID_ACCESS_TOKEN")
        if item.error_code and not allow_error:
            raise PlaidFailure(400, "ITEM_ERROR", item.error_code)
        return item

    def _link_token_create(self, body: dict) -> dict:
        for name in ("client_name", "language", "country_codes", "user"):
            if not body.get(name):
                raise PlaidFailure(400, "INVALID_REQUEST", "MISSING_FIELDS")
        if "access_token" in body:
            self._item_by_token(body, allow_error=True)  # update mode works on a broken login: that is its point
        elif "transactions" not in body.get("products", []):
            raise PlaidFailure(400, "INVALID_REQUEST", "INVALID_FIELD")
        self.link_tokens.append(body)
        expiration = (datetime.now(UTC) + timedelta(hours=4)).replace(microsecond=0)
        return {
            "link_token": f"link-sandbox-{uuid.uuid4()}",
            "expiration": expiration.isoformat().replace("+00:00", "Z"),
        }

    def _exchange(self, body: dict) -> dict:
        item_id = self.public_tokens.get(body.get("public_token"))
        if item_id is None:
            raise PlaidFailure(400, "INVALID_INPUT", "INVALID_PUBLIC_TOKEN")
        self.public_tokens[body["public_token"]] = None  # a public token is exchanged once
        item = self.items[item_id]
        item.access_token = f"access-sandbox-{uuid.uuid4()}"
        return {"access_token": item.access_token, "item_id": item.item_id}

    def _account_json(self, item: Item, index: int) -> dict:
        acc = item.accounts[index]
        current = float(self.current_balance(item, index))
        return {
            "account_id": acc.account_id,
            "balances": {
                "available": current,
                "current": current,
                "limit": None,
                "iso_currency_code": acc.currency,
                "unofficial_currency_code": None,
            },
            "mask": acc.mask,
            "name": acc.name,
            "official_name": f"{acc.name} Account",
            "type": acc.type,
            "subtype": acc.subtype,
        }

    def _accounts_get(self, body: dict) -> dict:
        item = self._item_by_token(body)
        return {
            "accounts": [self._account_json(item, n) for n in range(len(item.accounts))],
            "item": {
                "item_id": item.item_id,
                "webhook": "https://example.invalid/webhooks/plaid",
                "error": None,
                "available_products": ["balance"],
                "billed_products": ["transactions"],
                "products": ["transactions"],
                "consent_expiration_time": None,
                "update_type": "background",
                "institution_id": item.institution_id,
                "institution_name": item.institution_name,
            },
        }

    def _transactions_sync(self, body: dict) -> dict:
        item = self._item_by_token(body)
        if item.mutated_while_paginating:
            item.paginating = item.mutated_while_paginating = False
            raise PlaidFailure(400, "TRANSACTIONS_ERROR", "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION")
        cursor = body.get("cursor") or ""
        try:
            start = int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0
        except ValueError:
            raise PlaidFailure(400, "INVALID_INPUT", "INVALID_FIELD") from None
        if not 0 <= start <= len(item.log):
            raise PlaidFailure(400, "INVALID_INPUT", "INVALID_FIELD")
        count = max(1, min(int(body.get("count", 100)), 500))
        events = item.log[start : start + count]
        end = start + len(events)
        has_more = end < len(item.log)
        item.paginating = has_more
        response = {
            "added": [transaction_json(s) for k, _, s in events if k == "added"],
            "modified": [transaction_json(s) for k, _, s in events if k == "modified"],
            "removed": [{"transaction_id": i, "account_id": s["account_id"]} for k, i, s in events if k == "removed"],
            "next_cursor": base64.urlsafe_b64encode(str(end).encode()).decode(),
            "has_more": has_more,
            "accounts": [self._account_json(item, n) for n in range(len(item.accounts))]
            if self.sync_lists_accounts
            else [],
            "transactions_update_status": "HISTORICAL_UPDATE_COMPLETE",
        }
        hooks, self.after_sync_page[:] = list(self.after_sync_page), []
        for hook in hooks:
            hook()
        return response

    def _item_remove(self, body: dict) -> dict:
        item = self._item_by_token(body, allow_error=True)
        item.removed = True
        return {}

    def _verification_key(self, body: dict) -> dict:
        if body.get("key_id") != self.kid:
            raise PlaidFailure(400, "INVALID_INPUT", "INVALID_WEBHOOK_VERIFICATION_KEY_ID")
        return {"key": self.jwk()}
