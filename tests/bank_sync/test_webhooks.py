"""POST /webhooks/plaid: signature accepted, refused, stale, replayed; what each webhook does."""

import time

from cryptography.hazmat.primitives.asymmetric import ec

from tests.bank_sync.conftest import link, post, sync


def _jobs():
    from chalicelib.infra import storage

    return list(storage.list_keys("bank-sync/"))


def _connection(conn):
    return conn.execute("SELECT status, error_code, last_webhook_at, access_token_enc FROM bank_connections").fetchone()


def test_a_signed_sync_webhook_asks_for_a_background_sync(client, conn, make_user, fake_plaid):
    from chalicelib.bank_sync.jobs import handle_sync_object

    user = make_user()
    connection, item = link(client, fake_plaid, user)
    linked_jobs = set(_jobs())  # linking asked for the first sync already
    fake_plaid.add(item, amount="12.30", name="Bakery")
    body, headers = fake_plaid.webhook(item, "TRANSACTIONS", "SYNC_UPDATES_AVAILABLE", initial_update_complete=True)

    response = client.http.post("/webhooks/plaid", body=body, headers=headers)

    assert response.status_code == 200 and response.json_body == {"status": "sync_requested"}
    [job] = set(_jobs()) - linked_jobs
    assert job.startswith(f"bank-sync/{connection['id']}/")
    assert conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"] == 0  # not in the request
    assert _connection(conn)["last_webhook_at"] is not None
    assert handle_sync_object(key=job) == "completed"
    assert conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"] == 1


def test_the_s3_handler_runs_the_job(client, conn, make_user, fake_plaid):
    user = make_user()
    connection, item = link(client, fake_plaid, user)
    fake_plaid.add(item, amount="5.00", name="Kiosk")
    [job] = _jobs()
    event = client.events.generate_s3_event(
        bucket=__import__("chalicelib.infra.storage").infra.storage.bucket(), key=job
    )
    assert client.lambda_.invoke("bank_sync_requested", event).payload == "completed"
    assert conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"] == 1
    assert connection["id"] in job


def _refused(client, conn, body, headers):
    before = set(_jobs())
    response = client.http.post("/webhooks/plaid", body=body, headers=headers)
    assert response.status_code == 401, response.body
    assert response.json_body["error"]["code"] == "unauthorized"
    assert set(_jobs()) == before
    assert _connection(conn)["last_webhook_at"] is None


def test_bad_missing_stale_and_replayed_signatures_are_refused(client, conn, make_user, fake_plaid):
    user = make_user()
    _, item = link(client, fake_plaid, user)
    body, headers = fake_plaid.webhook(item, "TRANSACTIONS", "SYNC_UPDATES_AVAILABLE")
    # missing
    _refused(client, conn, body, {"Content-Type": "application/json"})
    # signed by another key under Plaid's kid
    _, forged = fake_plaid.webhook(
        item, "TRANSACTIONS", "SYNC_UPDATES_AVAILABLE", key=ec.generate_private_key(ec.SECP256R1())
    )
    _refused(client, conn, body, forged)
    # the body changed after signing
    _refused(client, conn, body.replace(b"SYNC_UPDATES", b"SYNC_UPDATEZ"), headers)
    # another algorithm (a shared-secret HS256 token)
    _, hs = fake_plaid.webhook(item, "TRANSACTIONS", "SYNC_UPDATES_AVAILABLE", key="x" * 32, alg="HS256")
    _refused(client, conn, body, hs)
    # a key Plaid does not know
    _, unknown = fake_plaid.webhook(item, "TRANSACTIONS", "SYNC_UPDATES_AVAILABLE", kid="kid-unknown")
    _refused(client, conn, body, unknown)
    # not a JWT at all
    _refused(client, conn, body, {**headers, "Plaid-Verification": "not-a-token"})
    # stale: signed six minutes ago
    stale_body, stale = fake_plaid.webhook(item, "TRANSACTIONS", "SYNC_UPDATES_AVAILABLE", iat=time.time() - 360)
    _refused(client, conn, stale_body, stale)
    # accepted once, then replayed
    assert client.http.post("/webhooks/plaid", body=body, headers=headers).status_code == 200
    jobs = set(_jobs())
    replay = client.http.post("/webhooks/plaid", body=body, headers=headers)
    assert replay.status_code == 401 and set(_jobs()) == jobs


def test_the_verification_key_is_fetched_once_per_kid(client, conn, make_user, fake_plaid):
    user = make_user()
    _, item = link(client, fake_plaid, user)
    for _ in range(3):
        body, headers = fake_plaid.webhook(item, "TRANSACTIONS", "SYNC_UPDATES_AVAILABLE", nonce=time.time_ns())
        assert client.http.post("/webhooks/plaid", body=body, headers=headers).status_code == 200
    assert fake_plaid.calls.count("/webhook_verification_key/get") == 1


def test_login_required_then_repaired(client, conn, make_user, fake_plaid):
    from chalicelib.jobs import run_job

    user = make_user()
    connection, item = link(client, fake_plaid, user)
    assert sync(connection["id"]).status == "completed"
    item.error_code = "ITEM_LOGIN_REQUIRED"
    body, headers = fake_plaid.webhook(
        item, "ITEM", "ERROR", error={"error_code": "ITEM_LOGIN_REQUIRED", "error_type": "ITEM_ERROR"}
    )
    assert client.http.post("/webhooks/plaid", body=body, headers=headers).json_body == {"status": "login_required"}

    got = client.http.get(f"/bank-connections/{connection['id']}", headers=user["headers"]).json_body
    assert (got["status"], got["error_code"]) == ("login_required", "ITEM_LOGIN_REQUIRED")
    note = conn.execute("SELECT type, priority FROM notifications WHERE user_id = %s", (user["id"],)).fetchone()
    assert (note["type"], note["priority"]) == ("security", "high")
    conn.execute(
        "UPDATE bank_connections SET last_webhook_at = now() - interval '7 hours', "
        "last_sync_at = now() - interval '7 hours'"
    )
    assert run_job("bank-sync")["due"] == 0  # the schedule leaves it alone until repaired

    repair = post(client, f"/bank-connections/{connection['id']}/update-link-token", None, user["headers"])
    assert repair.status_code == 200 and repair.json_body["link_token"].startswith("link-sandbox-")
    assert fake_plaid.link_tokens[-1]["access_token"].startswith("access-sandbox-")  # update mode
    item.error_code = None  # the person signed in again through Link
    body, headers = fake_plaid.webhook(item, "ITEM", "LOGIN_REPAIRED")
    assert client.http.post("/webhooks/plaid", body=body, headers=headers).json_body == {"status": "active"}
    fake_plaid.add(item, amount="3.00", name="After repair")
    assert sync(connection["id"]).added == 1


def test_a_sync_that_meets_a_lapsed_login_marks_the_connection(client, conn, make_user, fake_plaid):
    user = make_user()
    connection, item = link(client, fake_plaid, user)
    item.error_code = "ITEM_LOGIN_REQUIRED"
    report = sync(connection["id"])
    assert (report.status, report.error_code) == ("failed", "ITEM_LOGIN_REQUIRED")
    assert _connection(conn)["status"] == "login_required"
    assert conn.execute("SELECT status FROM data_sync_logs").fetchone()["status"] == "failed"


def test_revoked_permission_wipes_the_token_and_pending_expiration_warns(client, conn, make_user, fake_plaid):
    user = make_user()
    _, item = link(client, fake_plaid, user)
    body, headers = fake_plaid.webhook(
        item, "ITEM", "PENDING_EXPIRATION", consent_expiration_time="2027-01-01T00:00:00Z"
    )
    assert client.http.post("/webhooks/plaid", body=body, headers=headers).json_body == {"status": "login_required"}
    body, headers = fake_plaid.webhook(item, "ITEM", "USER_PERMISSION_REVOKED")
    assert client.http.post("/webhooks/plaid", body=body, headers=headers).json_body == {"status": "revoked"}
    state = _connection(conn)
    assert state["status"] == "revoked" and state["access_token_enc"] is None
    titles = [r["title"] for r in conn.execute("SELECT title FROM notifications ORDER BY created_at")]
    assert titles == ["Bank access expires soon", "Bank access revoked"]


def test_a_webhook_for_an_item_we_do_not_hold_is_ignored(client, conn, make_user, fake_plaid):
    token = fake_plaid.create_item()
    body, headers = fake_plaid.webhook(fake_plaid.item_of(token), "TRANSACTIONS", "SYNC_UPDATES_AVAILABLE")
    response = client.http.post("/webhooks/plaid", body=body, headers=headers)
    assert response.status_code == 200 and response.json_body == {"status": "ignored"}


def test_an_item_error_webhook_marks_the_connection_and_tells_the_owner(client, conn, make_user, fake_plaid):
    user = make_user()
    _, item = link(client, fake_plaid, user)
    body, headers = fake_plaid.webhook(item, "ITEM", "ERROR", error={"error_code": "INSTITUTION_DOWN"})
    assert client.http.post("/webhooks/plaid", body=body, headers=headers).json_body == {"status": "error"}
    assert (_connection(conn)["status"], _connection(conn)["error_code"]) == ("error", "INSTITUTION_DOWN")
    note = conn.execute("SELECT type, message FROM notifications").fetchone()
    assert note["type"] == "system" and "INSTITUTION_DOWN" in note["message"]
