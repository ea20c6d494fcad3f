from datetime import UTC, datetime, timedelta

from chalicelib.infra import db
from chalicelib.notifications.service import create_notification


def _notify(user, n=1, **kw):
    ids = []
    with db.transaction() as conn:
        for i in range(n):
            ids.append(
                create_notification(
                    conn,
                    user_id=user["id"],
                    type=kw.get("type", "system"),
                    title=f"note {i}",
                    message="hello",
                    priority=kw.get("priority", "normal"),
                    expires_at=kw.get("expires_at"),
                )
            )
    return ids


def test_list_filters_pages_and_counts(api, make_user):
    user, other = make_user(), make_user()
    _notify(user, 3)
    _notify(user, 2, type="security", priority="urgent")
    _notify(other, 4)

    status, first = api.get("/notifications?limit=3", user)
    assert status == 200 and len(first["items"]) == 3 and first["next_cursor"]
    _, second = api.get(f"/notifications?limit=3&cursor={first['next_cursor']}", user)
    assert len(second["items"]) == 2 and second["next_cursor"] is None
    ids = [n["id"] for n in first["items"] + second["items"]]
    assert len(set(ids)) == 5
    item = first["items"][0]
    assert set(item) == {"id", "type", "title", "message", "data", "priority", "read_at", "created_at", "expires_at"}

    _, security = api.get("/notifications?type=security", user)
    assert [n["priority"] for n in security["items"]] == ["urgent", "urgent"]
    assert api.get("/notifications?type=nonsense", user)[0] == 400
    assert api.get("/notifications?cursor=garbage", user)[0] == 400
    assert api.get("/notifications/unread-count", user) == (200, {"count": 5})


def test_read_one_read_all_and_unread_filter(api, make_user):
    user = make_user()
    ids = _notify(user, 3)
    status, read = api.post(f"/notifications/{ids[0]}/read", user)
    assert status == 200 and read["id"] == str(ids[0]) and read["read_at"] is not None
    again = api.post(f"/notifications/{ids[0]}/read", user)[1]
    assert again["read_at"] == read["read_at"]
    assert api.get("/notifications/unread-count", user)[1] == {"count": 2}
    _, unread = api.get("/notifications?unread=true", user)
    assert {n["id"] for n in unread["items"]} == {str(i) for i in ids[1:]}
    _, was_read = api.get("/notifications?unread=false", user)
    assert [n["id"] for n in was_read["items"]] == [str(ids[0])]

    assert api.post("/notifications/read-all", user) == (204, None)
    assert api.get("/notifications/unread-count", user)[1] == {"count": 0}


def test_someone_elses_notification_is_404(api, make_user):
    user, stranger = make_user(), make_user()
    (note,) = _notify(user)
    assert api.post(f"/notifications/{note}/read", stranger)[0] == 404
    assert api.post("/notifications/not-a-uuid/read", stranger)[0] == 404
    api.post("/notifications/read-all", stranger)
    assert api.get("/notifications/unread-count", user)[1] == {"count": 1}


def test_expired_notifications_are_not_listed_counted_or_marked(api, make_user, conn):
    user = make_user()
    (live,) = _notify(user, expires_at=datetime.now(UTC) + timedelta(days=1))
    (old,) = _notify(user, expires_at=datetime.now(UTC) + timedelta(seconds=30))
    conn.execute(
        """UPDATE notifications SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day'
            WHERE id = %s""",
        (old,),
    )
    assert [n["id"] for n in api.get("/notifications", user)[1]["items"]] == [str(live)]
    assert api.get("/notifications/unread-count", user)[1] == {"count": 1}
    assert api.post(f"/notifications/{old}/read", user)[0] == 404


def test_clients_cannot_create_notifications(api, make_user):
    user = make_user()
    status, _ = api.post("/notifications", user, {"type": "system", "title": "x", "message": "y"})
    assert status in (403, 404, 405)


def test_a_dedupe_key_makes_one_notification(make_user, conn):
    user = make_user()
    with db.transaction() as tx:
        first = create_notification(tx, user_id=user["id"], type="system", title="a", message="b", dedupe_key="k")
        second = create_notification(tx, user_id=user["id"], type="system", title="a", message="b", dedupe_key="k")
    assert first is not None and second is None
