import json
import threading

import pytest
from chalice.test import Client

from tests.infra.demo_app import app as demo_app


@pytest.fixture
def demo(services):
    with Client(demo_app, stage_name="test") as c:
        yield c


def _post(demo, user, body, key):
    return demo.http.post("/demo/notes", body=json.dumps(body), headers={**user["headers"], "Idempotency-Key": key})


def _count(conn, user):
    return conn.execute("SELECT count(*) AS n FROM notifications WHERE user_id = %s", (user["id"],)).fetchone()["n"]


def test_a_retried_write_replays_the_first_answer_and_changes_nothing(demo, make_user, conn):
    user = make_user()
    first = _post(demo, user, {"title": "rent", "amount": "-900.00"}, "key-1")
    again = _post(demo, user, {"amount": "-900.00", "title": "rent"}, "key-1")

    assert first.status_code == again.status_code == 201
    assert json.loads(first.body) == json.loads(again.body)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _count(conn, user) == 1


def test_the_same_key_with_another_body_is_422(demo, make_user, conn):
    user = make_user()
    _post(demo, user, {"title": "rent", "amount": "-900.00"}, "key-2")
    r = _post(demo, user, {"title": "rent", "amount": "-901.00"}, "key-2")

    assert r.status_code == 422
    assert json.loads(r.body)["error"]["code"] == "idempotency_key_reused"
    assert _count(conn, user) == 1


def test_keys_are_scoped_to_the_user(demo, make_user, conn):
    alice, bob = make_user(), make_user()
    _post(demo, alice, {"title": "a", "amount": 1}, "shared-key")
    r = _post(demo, bob, {"title": "a", "amount": 1}, "shared-key")

    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    assert _count(conn, alice) == _count(conn, bob) == 1


def test_a_failed_request_stores_nothing_and_may_be_retried(demo, make_user, conn):
    user = make_user()
    bad = _post(demo, user, {"title": "", "amount": 1}, "key-3")
    good = _post(demo, user, {"title": "ok", "amount": 1}, "key-3")
    assert bad.status_code == 400 and good.status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\tkey", "é"])
def test_malformed_keys_are_400(demo, make_user, key):
    r = _post(demo, make_user(), {"title": "a", "amount": 1}, key)
    assert r.status_code == 400


def test_racing_identical_requests_take_effect_exactly_once(demo, make_user, conn):
    user = make_user()
    results = []

    def send():
        with Client(demo_app, stage_name="test") as c:
            results.append(_post(c, user, {"title": "coffee", "amount": "-3.50", "slow": True}, "race"))

    threads = [threading.Thread(target=send) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    statuses = sorted(r.status_code for r in results)
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    for r in results:
        if r.status_code == 409:
            assert json.loads(r.body)["error"]["code"] == "request_in_progress"
    assert _count(conn, user) == 1


def test_a_failed_request_keeps_what_completed_units_wrote_as_without_the_key(make_user, conn, services):
    """Regression: with a key, the audit row of a failed attempt was rolled back with the failure."""
    from chalicelib.api import idempotency
    from chalicelib.api.context import RequestContext
    from chalicelib.core.actor import Actor
    from chalicelib.errors import Unauthorized
    from chalicelib.infra import db
    from chalicelib.notifications.service import create_notification

    user = make_user()
    ctx = RequestContext("r1", "POST", "/x", {}, Actor(user_id=user["id"], session_id=user["session_id"]))

    def failing_call():
        with db.transaction() as c:
            create_notification(c, user_id=user["id"], type="security", title="failed attempt", message="m")
        with db.transaction() as c:
            create_notification(c, user_id=user["id"], type="system", title="half-done", message="m")
            raise Unauthorized("wrong code", code="invalid_credentials")

    with pytest.raises(Unauthorized):
        idempotency.run(ctx, key="k-fail", raw_body=b"{}", call=failing_call)

    titles = [r["title"] for r in conn.execute("SELECT title FROM notifications WHERE user_id = %s", (user["id"],))]
    assert titles == ["failed attempt"]  # the completed unit stands; the failing one is undone
    assert conn.execute("SELECT count(*) AS n FROM idempotency_keys").fetchone()["n"] == 0


def test_responses_are_replayed_but_stored_encrypted(make_user, conn, services):
    from chalicelib.api import idempotency
    from chalicelib.api.context import RequestContext
    from chalicelib.core.actor import Actor

    user = make_user()
    ctx = RequestContext("r2", "POST", "/s", {}, Actor(user_id=user["id"], session_id=user["session_id"]))
    secret = {"secret": "JBSWY3DPEHPK3PXP"}

    first = idempotency.run(ctx, key="k-s", raw_body=b"{}", call=lambda: (200, secret, {}))
    again = idempotency.run(ctx, key="k-s", raw_body=b"{}", call=lambda: (200, {"secret": "other"}, {}))

    assert first[1] == again[1] == secret
    stored = conn.execute("SELECT response_body::text AS b FROM idempotency_keys").fetchone()["b"]
    assert "JBSWY3DPEHPK3PXP" not in stored
