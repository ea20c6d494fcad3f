"""A finished bank sync is pushed live (bank_sync.updated), to whoever may read the
synced accounts and nobody else, carrying the run as GET /imports?sync_type=plaid lists it."""

import json

from tests.bank_sync.conftest import link, sync
from tests.factories import make_family
from tests.live.conftest import gateway, listen  # noqa: F401 - shared fixtures


def _bank_sync_frames(listener):
    listener.send({"action": "subscribe", "topics": ["bank_sync"]})
    assert listener.next()["type"] == "subscribed"
    return listener


def test_a_finished_sync_reaches_the_family_and_no_stranger(client, conn, make_user, fake_plaid, listen):  # noqa: F811
    owner, viewer, stranger = make_user(), make_user(), make_user()
    family = make_family(conn, owner["id"], members={viewer["id"]: "viewer"})
    connection, item = link(client, fake_plaid, owner, family_id=family)
    fake_plaid.add(item, amount="12.40", name="CORNER SHOP")
    owner_ws, viewer_ws, stranger_ws = (_bank_sync_frames(listen(u)) for u in (owner, viewer, stranger))

    report = sync(connection["id"])

    assert report.status == "completed"
    pushed = owner_ws.until("bank_sync.updated")[-1]["data"]
    assert viewer_ws.until("bank_sync.updated")[-1]["data"] == pushed
    listed = json.loads(client.http.get("/imports?sync_type=plaid", headers=owner["headers"]).body)["items"]
    assert pushed == next(i for i in listed if i["id"] == pushed["id"])
    assert (pushed["status"], pushed["transactions_added"]) == ("completed", 1)
    stranger_ws.nothing_pending()


def test_a_failed_sync_is_pushed_too(client, conn, make_user, fake_plaid, listen):  # noqa: F811
    owner = make_user()
    connection, _item = link(client, fake_plaid, owner)
    owner_ws = _bank_sync_frames(listen(owner))
    fake_plaid.fail("/transactions/sync", error_type="ITEM_ERROR", error_code="ITEM_LOGIN_REQUIRED")

    assert sync(connection["id"]).status == "failed"

    pushed = owner_ws.until("bank_sync.updated")[-1]["data"]
    assert pushed["status"] == "failed"
