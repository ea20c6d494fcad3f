"""Issue 16 fault suite: PostgreSQL restarted under the app (a private cluster made with
initdb on its own port; the shared server on 5432 is never touched)."""

import json
import secrets
import statistics
import time
from decimal import Decimal

import psycopg
from chalice.test import Client

from chalicelib.infra.migrations import ensure_database, migrate
from tests.conftest import connect


def test_postgresql_restart_fails_fast_with_503_and_recovers_without_an_app_restart(
    private_postgres, redis_clean, point_app_at
):
    url = psycopg.conninfo.make_conninfo(private_postgres.admin_url, dbname=f"faults_{secrets.token_hex(3)}")
    ensure_database(url)
    migrate(url)
    point_app_at(DATABASE_URL=url)
    from app import app

    json_headers = {"Content-Type": "application/json"}
    with Client(app, stage_name="test") as c:
        email, password = f"pg-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(16)
        r = c.http.post("/auth/register", body=json.dumps({"email": email, "password": password}), headers=json_headers)
        auth = {**json_headers, "Authorization": f"Bearer {json.loads(r.body)['access_token']}"}
        r = c.http.post(
            "/accounts",
            body=json.dumps({"name": "Main", "type": "checking", "opening_balance": "100.00"}),
            headers=auth,
        )
        account = json.loads(r.body)["id"]

        def book(i: int) -> tuple[int, dict, float]:
            body = {"account_id": account, "amount": "-1.25", "transaction_date": "2024-05-02", "description": f"t{i}"}
            started = time.monotonic()
            r = c.http.post("/transactions", body=json.dumps(body), headers={**auth, "Idempotency-Key": f"book-{i}"})
            return r.status_code, json.loads(r.body or "{}"), time.monotonic() - started

        up = [book(i) for i in range(5)]
        private_postgres.stop()
        down = [book(i) for i in range(5, 15)]
        private_postgres.start()
        # Recovery: the same app object, the same pool; no restart of anything but PostgreSQL.
        deadline, recovered = time.monotonic() + 20, None
        while recovered is None and time.monotonic() < deadline:
            status, _, _ = book(15)
            recovered = status if status == 201 else None
            if recovered is None:
                time.sleep(0.2)
        after = [book(i) for i in range(16, 20)]
        # What failed while the server was away is retried by the client with the same key.
        retried = [book(i) for i in range(5, 15)]

    assert [s for s, _, _ in up] == [201] * 5
    assert {s for s, _, _ in down} == {503}
    assert {b["error"]["code"] for _, b, _ in down} == {"service_unavailable"}
    waits = [t for _, _, t in down]
    assert max(waits) < 8  # the first waits for the pool (db_pool_timeout_seconds); never a hang
    assert statistics.median(waits) < 1.5  # the rest are refused at once
    assert recovered == 201
    assert [s for s, _, _ in after] == [201] * 4
    assert {s for s, _, _ in retried} == {201}

    with connect(url, row_factory=psycopg.rows.dict_row) as conn:
        n = conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"]
        balance = conn.execute("SELECT balance FROM accounts WHERE id = %s", (account,)).fetchone()["balance"]
    assert n == 20  # every booking exactly once: nothing half-written, nothing doubled
    assert balance == Decimal("100.00") - 20 * Decimal("1.25")
