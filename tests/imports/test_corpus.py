"""Real statements from other finance tools' public test suites (tests/imports/corpus/,
sources and licences in SOURCES-*.md), each with the count and signed sum that its own
project's tests expect. Every file imports exactly through the S3 handler, or is refused
with mapping_required and then imports exactly when confirmed with a mapping; a second
import of the same bytes adds nothing. expectations.json holds the mappings a person
would give, and the few files refused or left out, each with its reason."""

import json
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.factories import make_account
from tests.imports.conftest import balance_of, transactions_of

CORPUS = Path(__file__).parent / "corpus"
EXPECTATIONS = json.loads((CORPUS / "expectations.json").read_text())
ENTRIES = sorted(
    (e for manifest in sorted(CORPUS.glob("manifest-*.json")) for e in json.loads(manifest.read_text())),
    key=lambda e: e["file"],
)
CASES = [e for e in ENTRIES if e["file"] not in EXPECTATIONS["excluded"]]
OPENING = {"savings": "1000000.00"}


def _account(conn, owner, entry):
    account = make_account(
        conn,
        owner["id"],
        type=entry.get("account_type") or "checking",
        currency=entry.get("currency") or "USD",
        opening_balance=OPENING.get(entry.get("account_type"), "0.00"),
    )
    if entry.get("account_id"):
        conn.execute("UPDATE accounts SET account_number_last4 = %s WHERE id = %s", (entry["account_id"][-4:], account))
    return account


def _get(client, owner, import_id):
    response = client.http.get(f"/imports/{import_id}", headers=owner["headers"])
    assert response.status_code == 200
    return json.loads(response.body)


def test_the_corpus_is_what_the_issue_asks_for():
    countries = {e["country"] for e in ENTRIES}
    assert len(ENTRIES) >= 60 and len(countries) >= 12
    for entry in ENTRIES:
        assert (CORPUS / entry["file"]).is_file(), entry["file"]
        assert len(entry["source"]["commit"]) == 40 and entry["source"]["licence"], entry["file"]
        assert entry["expected"]["from"], entry["file"]


@pytest.mark.parametrize("entry", CASES, ids=[e["file"].removeprefix("files/") for e in CASES])
def test_a_real_statement_imports_exactly_or_asks_for_a_mapping(conn, client, owner, run_import, entry):
    account = _account(conn, owner, entry)
    data = (CORPUS / entry["file"]).read_bytes()
    name = Path(entry["file"]).name

    record = run_import(owner["id"], account, name, data)

    reason = EXPECTATIONS["refused"].get(entry["file"])
    if reason is not None:
        assert record["status"] == "failed", reason
        assert transactions_of(conn, account) == []
        return
    mapping = EXPECTATIONS["mappings"].get(entry["file"])
    if mapping is not None:
        refused = _get(client, owner, record["id"])
        assert (refused["status"], refused["error_code"]) == ("failed", "mapping_required"), refused["error_message"]
        assert refused["candidates"] and transactions_of(conn, account) == []
        response = client.http.post(
            f"/imports/{record['id']}/confirm",
            headers=owner["headers"] | {"Content-Type": "application/json"},
            body=json.dumps({"mapping": mapping}),
        )
        assert response.status_code == 202, response.body
    done = _get(client, owner, record["id"])
    assert done["status"] == "completed", (done["error_message"], done["errors"][:3])
    assert done["layout"]["format"] in ("csv", "ofx", "qif")

    rows = transactions_of(conn, account)
    expected = entry["expected"]
    count = expected["count"] - EXPECTATIONS["zero_amount_rows"].get(entry["file"], 0)
    total = Decimal(expected["sum"])
    assert len(rows) == count
    assert sum(r["amount"] for r in rows) == total
    assert balance_of(conn, account) == Decimal(OPENING.get(entry.get("account_type"), "0.00")) + total
    for sample in expected.get("rows", []):
        if entry["file"] in EXPECTATIONS["dates_differ"]:
            assert any(r["amount"] == Decimal(sample["amount"]) for r in rows), sample
            continue
        day, amount = date.fromisoformat(sample["date"]), Decimal(sample["amount"])
        # Other tools date a row by the day it was booked where we keep the day it was made.
        same = [r for r in rows if r["amount"] == amount and day in (r["transaction_date"], r["posted_date"])]
        assert same, sample
        # The source project may show another of the row's texts (payee, memo, reference);
        # the money and the day are what must match.
        words = (sample.get("description") or "").lower()
        texts = [f"{r['description']} {r['merchant'] or ''} {r['notes'] or ''}".lower() for r in same]
        if words and not any(words in t for t in texts):
            print(f"{entry['file']}: {sample} read as {texts}")

    again = run_import(owner["id"], account, name, data, import_id=uuid.uuid4())
    assert again["transactions_added"] == 0
    assert len(transactions_of(conn, account)) == count
