import threading
from datetime import timedelta

from chalicelib.core.dates import local_today
from chalicelib.goals.service import crossed_milestones
from tests.factories import make_family

GOAL = {"name": "Bike", "goal_type": "purchase", "target_amount": "1000.00"}


def _milestones(conn, user_id=None):
    rows = conn.execute(
        "SELECT user_id, (data->>'milestone')::int AS m FROM notifications WHERE type = 'goal_milestone' ORDER BY 2"
    ).fetchall()
    return [r["m"] for r in rows if user_id is None or r["user_id"] == user_id]


def test_crossed_milestones_is_exact():
    from decimal import Decimal as D

    assert crossed_milestones(before=D("0"), after=D("249.99"), target=D("1000")) == []
    assert crossed_milestones(before=D("0"), after=D("250"), target=D("1000")) == [25]
    assert crossed_milestones(before=D("250"), after=D("1000"), target=D("1000")) == [50, 75, 100]
    assert crossed_milestones(before=D("800"), after=D("5000"), target=D("1000")) == [100]
    assert crossed_milestones(before=D("600"), after=D("100"), target=D("1000")) == []


def test_create_read_progress_and_crud(client, api, make_user):
    user = make_user()
    status, goal = api.post("/goals", user, {**GOAL, "current_amount": "125.50", "color": "#00FF00"})
    assert status == 201
    assert goal["progress_percent"] == 12.55 and goal["current_amount"] == "125.50" and goal["currency"] == "USD"
    assert api.get(f"/goals/{goal['id']}", user) == (200, goal)
    assert api.get("/goals", user)[1]["items"] == [goal]
    status, changed = api.patch(f"/goals/{goal['id']}", user, {"target_amount": "251.00"})
    assert status == 200 and changed["progress_percent"] == 50.0
    assert api.delete(f"/goals/{goal['id']}", user)[0] == 204
    assert api.get(f"/goals/{goal['id']}", user)[0] == 404


def test_bad_input_is_400_and_writes_nothing(api, make_user, conn):
    user = make_user(timezone="Pacific/Kiritimati")
    yesterday = local_today("Pacific/Kiritimati") - timedelta(days=1)
    for body, field in [
        ({**GOAL, "target_date": yesterday.isoformat()}, "target_date"),
        ({**GOAL, "target_amount": "0"}, "target_amount"),
        ({**GOAL, "current_amount": "-1"}, "current_amount"),
        ({**GOAL, "goal_type": "yacht"}, "goal_type"),
        ({**GOAL, "color": "green"}, "color"),
    ]:
        status, err = api.post("/goals", user, body)
        assert status == 400 and err["error"]["details"][0]["field"] == field, err
    assert conn.execute("SELECT count(*) AS n FROM goals").fetchone()["n"] == 0

    status, goal = api.post("/goals", user, {**GOAL, "target_date": local_today("Pacific/Kiritimati").isoformat()})
    assert status == 201
    assert api.post(f"/goals/{goal['id']}/contributions", user, {"amount": "0"})[0] == 400
    assert api.post(f"/goals/{goal['id']}/contributions", user, {"amount": "-0.01"})[0] == 400
    assert api.patch(f"/goals/{goal['id']}", user, {"target_date": yesterday.isoformat()})[0] == 400
    assert api.get(f"/goals/{goal['id']}", user)[1]["current_amount"] == "0.00"


def test_an_old_target_date_does_not_block_other_changes(api, make_user, conn):
    user = make_user()
    _, goal = api.post("/goals", user, GOAL)
    conn.execute("UPDATE goals SET target_date = '2020-01-01' WHERE id = %s", (goal["id"],))
    status, changed = api.patch(f"/goals/{goal['id']}", user, {"name": "Old bike", "target_date": "2020-01-01"})
    assert status == 200 and changed["name"] == "Old bike"


def test_contributions_notify_each_milestone_once_and_withdrawals_stay_above_zero(api, make_user, conn):
    user = make_user()
    _, goal = api.post("/goals", user, GOAL)
    path = f"/goals/{goal['id']}/contributions"
    assert api.post(path, user, {"amount": "300"})[1]["progress_percent"] == 30.0
    assert _milestones(conn) == [25]
    api.post(path, user, {"amount": "-200"})
    api.post(path, user, {"amount": "200"})  # crosses 25 % again: not notified twice
    assert _milestones(conn) == [25]
    status, after = api.post(path, user, {"amount": "700"})
    assert status == 200 and after["current_amount"] == "1000.00" and after["progress_percent"] == 100.0
    assert _milestones(conn) == [25, 50, 75, 100]
    status, err = api.post(path, user, {"amount": "-1000.01"})
    assert status == 400 and err["error"]["details"][0]["field"] == "amount"


def test_concurrent_contributions_add_up_and_notify_each_milestone_once(client, make_user, conn):
    import json

    user = make_user()
    r = client.http.post("/goals", body=json.dumps(GOAL), headers=user["headers"])
    goal_id = json.loads(r.body)["id"]
    barrier = threading.Barrier(8)
    statuses = []

    def contribute():
        from chalicelib.goals.models import ContributionIn
        from chalicelib.goals.service import contribute as contribute_service

        barrier.wait()
        contribute_service(actor=_actor(user), goal_id=goal_id, data=ContributionIn(amount="125.00"))
        statuses.append("ok")

    threads = [threading.Thread(target=contribute) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == ["ok"] * 8
    assert (
        conn.execute("SELECT current_amount FROM goals WHERE id = %s", (goal_id,)).fetchone()["current_amount"] == 1000
    )
    assert _milestones(conn) == [25, 50, 75, 100]


def _actor(user):
    from chalicelib.core.actor import Actor

    return Actor(user_id=user["id"], session_id=user["session_id"], request_id="t")


def test_scoping_stranger_404_viewer_reads_member_contributes_admin_manages(api, make_user, conn):
    owner, admin, member, viewer, stranger = (make_user() for _ in range(5))
    family = make_family(
        conn, owner["id"], members={admin["id"]: "admin", member["id"]: "member", viewer["id"]: "viewer"}
    )
    assert api.post("/goals", member, {**GOAL, "family_id": str(family)})[0] == 403
    status, goal = api.post("/goals", admin, {**GOAL, "family_id": str(family)})
    assert status == 201
    path = f"/goals/{goal['id']}"
    for method, args in (("get", ()), ("patch", ({"name": "x"},)), ("delete", ())):
        assert getattr(api, method)(path, stranger, *args)[0] == 404
    assert api.post(path + "/contributions", stranger, {"amount": "1"})[0] == 404
    assert api.get(path, viewer)[0] == 200
    assert api.post(path + "/contributions", viewer, {"amount": "1"})[0] == 403
    assert api.patch(path, member, {"name": "x"})[0] == 403
    assert api.post(path + "/contributions", member, {"amount": "250"})[0] == 200
    # a family goal's milestone reaches every member
    assert sorted(_milestones(conn)) == [25, 25, 25, 25]
    assert api.delete(path, admin)[0] == 204
