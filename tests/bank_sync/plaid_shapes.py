"""Plaid's JSON shapes and HTTP framing for the fake server (fake_plaid.py)."""

import json
import uuid
from http.server import BaseHTTPRequestHandler


class PlaidFailure(Exception):
    def __init__(self, status: int, error_type: str, error_code: str, message: str = "fake failure"):
        self.status, self.error_type, self.error_code, self.message = status, error_type, error_code, message


def transaction_json(t: dict) -> dict:
    """A stored transaction as Plaid's Transaction JSON (every field the client's model requires)."""
    category = t["category"]
    location = {
        "address": None,
        "city": None,
        "region": None,
        "postal_code": None,
        "country": None,
        "lat": None,
        "lon": None,
        "store_number": None,
        **(t["location"] or {}),
    }
    return {
        "account_id": t["account_id"],
        "account_owner": None,
        "amount": float(t["amount"]),
        "iso_currency_code": t["iso_currency_code"],
        "unofficial_currency_code": None,
        "category": None,
        "category_id": None,
        "check_number": None,
        "counterparties": [],
        "date": t["date"],
        "datetime": None,
        "authorized_date": t["date"],
        "authorized_datetime": None,
        "location": location,
        "logo_url": None,
        "merchant_entity_id": None,
        "merchant_name": t["merchant_name"],
        "name": t["name"],
        "original_description": None,
        "payment_channel": "in store",
        "payment_meta": {
            "by_order_of": None,
            "payee": None,
            "payer": None,
            "payment_method": None,
            "payment_processor": None,
            "ppd_id": None,
            "reason": None,
            "reference_number": None,
        },
        "pending": t["pending"],
        "pending_transaction_id": t["pending_transaction_id"],
        "personal_finance_category": (
            {"primary": category[0], "detailed": category[1], "confidence_level": category[2]} if category else None
        ),
        "transaction_code": None,
        "transaction_id": t["transaction_id"],
        "transaction_type": "place",
        "website": None,
    }


def handler_for(fake):
    """The HTTP side: POST JSON in, Plaid's JSON or Plaid's error body out."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
                status, payload = 200, fake.handle(self.path, body, {k.lower(): v for k, v in self.headers.items()})
            except PlaidFailure as exc:
                status = exc.status
                payload = {
                    "error_type": exc.error_type,
                    "error_code": exc.error_code,
                    "error_message": f"{exc.message}: secret internal detail",
                    "display_message": None,
                    "request_id": uuid.uuid4().hex[:15],
                    "causes": [],
                    "status": exc.status,
                    "documentation_url": "https://plaid.com/docs/errors/",
                    "suggested_action": None,
                }
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
