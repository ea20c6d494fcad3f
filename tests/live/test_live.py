"""Live updates end to end: a real WebSocket client against the local gateway, which
invokes the app's $connect/$default/$disconnect handlers and receives the pushes the app
sends through websocket_api.send (boto3's management API client)."""

import json
import socket
import threading
import time
from datetime import date

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from chalicelib.infra import cache, db
from chalicelib.live import registry
from chalicelib.notifications.service import create_notification
from tests.budgets.conftest import budget_body
from tests.factories import make_account, make_family


def _refused_status(gateway, query):
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{gateway.url}/{query}", open_timeout=10)
    return refused.value.response.status_code


def _connections(redis_client, user):
    return redis_client.smembers(cache.key(f"ws_connections:{user['id']}"))


def test_a_valid_token_connects_and_the_connection_is_registered_until_it_closes(
    gateway, listen, make_user, redis_clean
):
    user = make_user()
    client = listen(user)
    client.send({"action": "ping"})
    assert client.next() == {"type": "pong", "data": {}}
    assert len(_connections(redis_clean, user)) == 1
    (connection_id,) = _connections(redis_clean, user)
    assert redis_clean.ttl(cache.key(f"ws_connections:{user['id']}")) > 0

    client.send({"action": "subscribe", "topics": ["dashboard", "notifications"]})
    assert client.next() == {"type": "subscribed", "data": {"topics": ["dashboard", "notifications"]}}
    assert registry.get(connection_id).topics == {"dashboard", "notifications"}

    client.ws.close()
    # $disconnect runs on the gateway once it sees the close; poll for its effect.
    for _ in range(500):
        if not _connections(redis_clean, user):
            break
        time.sleep(0.01)
    assert _connections(redis_clean, user) == set()
    assert registry.get(connection_id) is None


def test_bad_messages_get_an_error_frame_and_the_connection_stays(listen, make_user):
    client = listen(make_user())
    client.ws.send("not json")
    assert client.next()["data"]["code"] == "invalid_message"
    client.send({"action": "dance"})
    assert client.next()["data"]["code"] == "unknown_action"
    client.send({"action": "subscribe", "topics": ["everything"]})
    assert client.next()["data"]["code"] == "validation_error"
    client.nothing_pending()


def test_no_token_a_bad_one_and_a_revoked_one_are_refused(gateway, make_user, conn):
    assert _refused_status(gateway, "") == 401
    assert _refused_status(gateway, "?token=not-a-token") == 401
    user = make_user()
    conn.execute("UPDATE user_sessions SET revoked_at = now() WHERE id = %s", (user["session_id"],))
    assert _refused_status(gateway, f"?token={user['token']}") == 401


def test_crossing_a_budget_threshold_pushes_the_alert_and_the_dashboard_get_dashboard_gives(
    api, listen, make_user, conn, cats
):
    user = make_user()
    account = make_account(conn, user["id"])
    status, _ = api.post(
        "/budgets",
        user,
        budget_body(
            [{"category_id": str(cats["food"]), "allocated_amount": "100.00", "alert_threshold": 0.8}],
            start_date="2020-01-01",
        ),
    )
    assert status == 201
    client = listen(user)

    status, _ = api.post(
        "/transactions",
        user,
        {
            "account_id": str(account),
            "amount": "-85.00",
            "description": "Weekly shop",
            "transaction_date": date.today().isoformat(),
            "category_id": str(cats["groceries"]),
        },
    )
    assert status == 201

    frames = client.until("dashboard.updated")
    if not any(f["type"] == "notification.created" for f in frames):
        frames += client.until("notification.created")  # both are pushed; their order is free
    frames.sort(key=lambda f: f["type"] == "dashboard.updated")
    alerts = [f for f in frames if f["type"] == "notification.created"]
    assert [a["data"]["type"] for a in alerts] == ["budget_alert"]
    assert alerts[0]["data"]["data"]["level"] == "warning"
    status, dashboard = api.get("/dashboard", user)
    assert status == 200
    pushed = frames[-1]["data"]
    assert pushed["spending_today"] == dashboard["spent_today"] == "85.00"
    assert pushed["budget_status"] == dashboard["budgets"]
    assert pushed["budget_status"][0]["state"] == "warning"
    _, listed = api.get("/notifications", user)
    assert alerts[0]["data"] == listed["items"][0]


def test_a_family_write_reaches_every_member_and_no_stranger(api, listen, make_user, conn):
    owner, member, viewer, stranger = make_user(), make_user(), make_user(), make_user()
    family = make_family(conn, owner["id"], members={member["id"]: "member", viewer["id"]: "viewer"})
    shared = make_account(conn, owner["id"], family_id=family)
    make_account(conn, stranger["id"])
    member_ws, viewer_ws, stranger_ws = listen(member), listen(viewer), listen(stranger)

    status, _ = api.post(
        "/transactions",
        owner,
        {
            "account_id": str(shared),
            "amount": "-12.50",
            "description": "Family dinner",
            "transaction_date": date.today().isoformat(),
        },
    )
    assert status == 201

    for client, user in ((member_ws, member), (viewer_ws, viewer)):
        pushed = client.until("dashboard.updated")[-1]["data"]
        assert pushed["spending_today"] == api.get("/dashboard", user)[1]["spent_today"] == "12.50"
    stranger_ws.nothing_pending()


def test_a_rolled_back_write_pushes_nothing(listen, make_user):
    user = make_user()
    client = listen(user)
    client.send({"action": "subscribe", "topics": ["notifications"]})
    assert client.next()["type"] == "subscribed"

    with pytest.raises(RuntimeError), db.transaction() as conn:
        create_notification(conn, user_id=user["id"], type="system", title="Never", message="rolled back")
        raise RuntimeError("the use case fails after the insert")
    # A savepoint that fails inside a unit of work that commits: its push goes with it.
    with db.transaction() as conn:
        with pytest.raises(RuntimeError), db.transaction() as inner:
            create_notification(inner, user_id=user["id"], type="system", title="Never", message="savepoint")
            raise RuntimeError("the joined block fails")
        create_notification(conn, user_id=user["id"], type="system", title="Kept", message="committed")

    frames = client.until("notification.created")
    assert [f["data"]["title"] for f in frames if f["type"] == "notification.created"] == ["Kept"]
    client.nothing_pending()


def test_a_gone_connection_is_dropped_from_the_registry(listen, make_user, redis_clean):
    user = make_user()
    client = listen(user)
    # API Gateway forgot this one without a $disconnect: the management API answers 410.
    registry.add(connection_id="R29uZUNvbm5lY3Rpb24=", user_id=user["id"])
    assert len(_connections(redis_clean, user)) == 2

    with db.transaction() as conn:
        create_notification(conn, user_id=user["id"], type="system", title="Hello", message="hi")
    assert client.until("notification.created")[-1]["data"]["title"] == "Hello"
    assert "R29uZUNvbm5lY3Rpb24=" not in _connections(redis_clean, user)
    assert len(_connections(redis_clean, user)) == 1


def _dead_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_redis_down_writes_succeed_and_nothing_is_pushed(api, listen, make_user, conn, monkeypatch):
    import redis

    user = make_user()
    account = make_account(conn, user["id"])
    client = listen(user)
    # This process's client points at a port where no Redis listens (the shared one keeps running).
    dead = redis.Redis.from_url(f"redis://127.0.0.1:{_dead_port()}/0", socket_timeout=0.2, socket_connect_timeout=0.2)
    monkeypatch.setattr(cache, "_client", dead)
    monkeypatch.setattr(cache, "_down_until", 0.0)

    status, body = api.post(
        "/transactions",
        user,
        {"account_id": str(account), "amount": "-5.00", "description": "Coffee", "transaction_date": str(date.today())},
    )
    assert status == 201, body
    with db.transaction() as tx:
        assert create_notification(tx, user_id=user["id"], type="system", title="Offline", message="m") is not None
    assert api.get("/dashboard", user)[1]["spent_today"] == "5.00"

    monkeypatch.undo()
    cache.reset()
    client.nothing_pending()


def test_an_import_pushes_each_status_it_moves_through(client, listen, make_user, conn):
    from chalicelib.infra import storage
    from tests.imports.conftest import fixture_bytes, s3_event

    user = make_user()
    account = make_account(conn, user["id"], opening_balance="100.00")
    listener = listen(user)
    listener.send({"action": "subscribe", "topics": ["imports"]})
    assert listener.next()["type"] == "subscribed"
    response = client.http.post(
        "/imports", body=json.dumps({"account_id": str(account), "filename": "chase.csv"}), headers=user["headers"]
    )
    key = json.loads(response.body)["key"]
    data = fixture_bytes("us_chase_checking.csv")
    etag = storage.put_bytes(key, data, content_type="text/csv")

    import app as app_module

    app_module.statement_uploaded(s3_event(storage.bucket(), key, etag, len(data)), None)

    first, second = listener.next(), listener.next()
    assert [first["type"], second["type"]] == ["imports.updated", "imports.updated"]
    assert [first["data"]["status"], second["data"]["status"]] == ["in_progress", "completed"]
    shown = json.loads(client.http.get(f"/imports/{second['data']['id']}", headers=user["headers"]).body)
    assert second["data"] == shown
    listener.nothing_pending()


def test_the_bank_sync_hook_reaches_who_may_read_the_account_and_no_one_else(listen, make_user, conn):
    from chalicelib.live.hooks import bank_sync_finished

    owner, viewer, stranger = make_user(), make_user(), make_user()
    family = make_family(conn, owner["id"], members={viewer["id"]: "viewer"})
    shared = make_account(conn, owner["id"], family_id=family)
    owner_ws, viewer_ws, stranger_ws = listen(owner), listen(viewer), listen(stranger)
    resource = {"account_id": str(shared), "status": "completed", "transactions_added": 3}

    with db.transaction() as tx:
        bank_sync_finished(tx, owner_id=owner["id"], family_id=family, resource=resource)

    for listener in (owner_ws, viewer_ws):
        assert listener.next() == {"type": "bank_sync.updated", "data": resource}
    stranger_ws.nothing_pending()


def test_a_write_that_moves_no_figure_pushes_no_dashboard(api, listen, make_user, conn):
    user = make_user()
    account = make_account(conn, user["id"])
    client = listen(user)
    client.send({"action": "subscribe", "topics": ["dashboard"]})
    assert client.next()["type"] == "subscribed"
    today = date.today().isoformat()
    _, created = api.post(
        "/transactions",
        user,
        {"account_id": str(account), "amount": "-7.00", "description": "Lunch", "transaction_date": today},
    )
    assert client.next()["data"]["spending_today"] == "7.00"

    status, _ = api.patch(f"/transactions/{created['id']}", user, {"notes": "with Ann"})
    assert status == 200
    client.nothing_pending()
    api.patch(f"/transactions/{created['id']}", user, {"amount": "-9.00"})
    assert client.next()["data"]["spending_today"] == "9.00"


def test_each_family_member_gets_their_own_dashboard_as_get_dashboard_gives_it(api, listen, make_user, conn, cats):
    from chalicelib.core.dates import local_today
    from tests.factories import make_transaction

    # Kiritimati (UTC+14) and Pago Pago (UTC-11) are always on different dates, so the same
    # write is "today" for one of them and not for the other.
    east, west = "Pacific/Kiritimati", "Pacific/Pago_Pago"
    owner, member, saver, viewer = make_user(), make_user(timezone=east), make_user(), make_user(timezone=west)
    family = make_family(
        conn, owner["id"], members={member["id"]: "member", saver["id"]: "member", viewer["id"]: "viewer"}
    )
    shared = make_account(conn, owner["id"], family_id=family)
    savers_own = make_account(conn, saver["id"])
    east_day, west_day = local_today(east), local_today(west)
    make_transaction(conn, owner["id"], shared, "-20.00", day=west_day, category_id=cats["groceries"])
    make_transaction(conn, saver["id"], savers_own, "-30.00", day=local_today("UTC"), category_id=cats["restaurants"])
    family_budget = budget_body(
        [{"category_id": str(cats["groceries"]), "allocated_amount": "50.00"}],
        name="Family food",
        family_id=str(family),
        start_date="2020-01-01",
    )
    assert api.post("/budgets", owner, family_budget)[0] == 201
    own_budget = budget_body(
        [{"category_id": str(cats["food"]), "allocated_amount": "40.00", "alert_threshold": 0.5}],
        name="My eating out",
        start_date="2020-01-01",
    )
    assert api.post("/budgets", saver, own_budget)[0] == 201
    sockets = {name: listen(user) for name, user in (("member", member), ("saver", saver), ("viewer", viewer))}
    for ws in sockets.values():
        ws.send({"action": "subscribe", "topics": ["dashboard"]})
        assert ws.next()["type"] == "subscribed"

    status, _ = api.post(
        "/transactions",
        owner,
        {
            "account_id": str(shared),
            "amount": "-5.00",
            "description": "Bread",
            "transaction_date": east_day.isoformat(),
            "category_id": str(cats["groceries"]),
        },
    )
    assert status == 201

    pushed = {name: ws.until("dashboard.updated")[-1]["data"] for name, ws in sockets.items()}
    users = {"member": member, "saver": saver, "viewer": viewer}
    for name, figures in pushed.items():
        status, dashboard = api.get("/dashboard", users[name])
        assert status == 200
        assert figures == {
            "date": dashboard["date"],
            "spending_today": dashboard["spent_today"],
            "budget_status": dashboard["budgets"],
        }, name
    # The views do differ: each member's own today, and only the saver's own budget.
    assert (pushed["member"]["date"], pushed["viewer"]["date"]) == (east_day.isoformat(), west_day.isoformat())
    assert pushed["member"]["spending_today"] == "5.00"
    assert pushed["viewer"]["spending_today"] == "20.00"
    assert [b["name"] for b in pushed["saver"]["budget_status"]] == ["My eating out", "Family food"]
    assert [b["name"] for b in pushed["member"]["budget_status"]] == ["Family food"]
    assert pushed["saver"]["budget_status"][0]["state"] == "warning"


def test_a_push_that_does_not_hold_the_write_up_still_arrives(api, listen, make_user, conn, monkeypatch):
    """LIVE_PUSH_WAIT_MS=0 (the write returns at once): delivery waits for the write's response
    to be built, then goes; nothing is lost."""
    from chalicelib.infra.settings import get_settings

    monkeypatch.setenv("LIVE_PUSH_WAIT_MS", "0")
    get_settings.cache_clear()
    try:
        user = make_user()
        account = make_account(conn, user["id"])
        client = listen(user)
        client.send({"action": "subscribe", "topics": ["dashboard"]})
        assert client.next()["type"] == "subscribed"
        status, _ = api.post(
            "/transactions",
            user,
            {
                "account_id": str(account),
                "amount": "-4.00",
                "description": "Tea",
                "transaction_date": date.today().isoformat(),
            },
        )
        assert status == 201
        assert client.next()["data"]["spending_today"] == "4.00"
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_a_write_hands_its_pushes_to_the_push_function_which_delivers_them(
    api, handed_off, listen, make_user, conn, monkeypatch
):
    """LIVE_PUSH_FUNCTION set: the writer's process only invokes the push function (the
    gateway's Lambda Invoke API, InvocationType=Event); the push function, on the gateway's
    threads, finds the connections, builds the figures and sends."""
    from chalicelib.live import handoff, publisher

    invoked, delivered_by = [], []
    invoke, deliver = handoff.invoke, publisher._deliver
    monkeypatch.setattr(handoff, "invoke", lambda *a: invoked.append(a[0]) or invoke(*a))
    monkeypatch.setattr(
        publisher, "_deliver", lambda *a: delivered_by.append(threading.current_thread().name) or deliver(*a)
    )
    owner, member = make_user(), make_user()
    family = make_family(conn, owner["id"], members={member["id"]: "member"})
    shared = make_account(conn, owner["id"], family_id=family)
    owner_ws, member_ws = listen(owner), listen(member)

    status, _ = api.post(
        "/transactions",
        owner,
        {
            "account_id": str(shared),
            "amount": "-6.00",
            "description": "Handed off",
            "transaction_date": date.today().isoformat(),
        },
    )
    assert status == 201
    for client, user in ((owner_ws, owner), (member_ws, member)):
        pushed = client.until("dashboard.updated")[-1]["data"]
        assert pushed["spending_today"] == api.get("/dashboard", user)[1]["spent_today"] == "6.00"
    assert invoked == ["fiscaflow-test-live_push"]
    assert delivered_by and all(name.startswith("ws-invoke") for name in delivered_by)


def test_a_hand_off_that_fails_drops_its_pushes_and_the_write_succeeds(
    api, handed_off, listen, make_user, conn, log_lines
):
    user = make_user()
    account = make_account(conn, user["id"])
    client = listen(user)
    handed_off(f"http://127.0.0.1:{_dead_port()}")  # nothing answers the Invoke API

    status, body = api.post(
        "/transactions",
        user,
        {"account_id": str(account), "amount": "-3.00", "description": "Lost", "transaction_date": str(date.today())},
    )
    assert status == 201, body
    assert api.get("/dashboard", user)[1]["spent_today"] == "3.00"
    assert "live hand-off failed, its pushes are dropped" in log_lines.getvalue()
    client.nothing_pending()


def test_a_rolled_back_write_hands_nothing_off(handed_off, listen, make_user, monkeypatch):
    from chalicelib.live import handoff

    invoked = []
    monkeypatch.setattr(handoff, "invoke", lambda *a: invoked.append(a))
    user = make_user()
    client = listen(user)
    with pytest.raises(RuntimeError), db.transaction() as conn:
        create_notification(conn, user_id=user["id"], type="system", title="Never", message="rolled back")
        raise RuntimeError("the use case fails after the insert")
    assert invoked == []
    client.nothing_pending()


def test_the_aws_transport_boto3_invoke_is_answered_by_the_gateway_and_delivers(gateway, listen, make_user):
    """What a deployed writer sends (boto3's signed Invoke, InvocationType=Event) is what the
    local gateway answers: the push function runs there and the push arrives."""
    from chalicelib.live import handoff, publisher
    from chalicelib.live.topics import frame

    user = make_user()
    client = listen(user)
    push = publisher.Push(frozenset([user["id"]]), "notifications", frame("notification.created", {"title": "Hi"}))
    payload = publisher.encode([push], time.time() + 5)

    handoff.invoke_signed("fiscaflow-prod-live_push", payload, endpoint_url=gateway.management_url)
    assert client.next() == {"type": "notification.created", "data": {"title": "Hi"}}
    with pytest.raises(Exception, match="ResourceNotFoundException"):
        handoff.invoke_signed("fiscaflow-prod-no_such_function", payload, endpoint_url=gateway.management_url)


def test_a_write_nobody_listens_to_invokes_nothing(api, handed_off, make_user, conn, monkeypatch):
    from chalicelib.live import handoff

    invoked = []
    monkeypatch.setattr(handoff, "invoke", lambda *a: invoked.append(a))
    user = make_user()
    account = make_account(conn, user["id"])
    status, _ = api.post(
        "/transactions",
        user,
        {"account_id": str(account), "amount": "-2.00", "description": "Alone", "transaction_date": str(date.today())},
    )
    assert status == 201
    assert invoked == []


def test_pushes_too_large_to_hand_off_are_delivered_by_the_writer(handed_off, listen, make_user, monkeypatch):
    from chalicelib.live import handoff

    invoked = []
    monkeypatch.setattr(handoff, "invoke", lambda *a: invoked.append(a))
    monkeypatch.setattr(handoff, "MAX_PAYLOAD_BYTES", 100)  # Lambda's is 256 KB
    user = make_user()
    client = listen(user)
    with db.transaction() as conn:
        create_notification(conn, user_id=user["id"], type="system", title="Big", message="x" * 200)
    assert client.until("notification.created")[-1]["data"]["title"] == "Big"
    assert invoked == []
