import threading
from datetime import date, timedelta

from chalicelib.budgets.alerts import evaluate_budget_alerts_for_user, run_budget_alerts
from chalicelib.core.dates import local_today
from chalicelib.infra import db
from tests.budgets.conftest import budget_body
from tests.factories import make_account, make_family, make_transaction


def _alerts(conn, user_id=None):
    rows = conn.execute(
        """SELECT user_id, data->>'level' AS level, data->>'category_id' AS category_id, title, message, dedupe_key
             FROM notifications WHERE type = 'budget_alert' ORDER BY created_at, data->>'level' DESC"""
    ).fetchall()
    return [r for r in rows if user_id is None or r["user_id"] == user_id]


def _budget(api, user, cats, **overrides):
    overrides.setdefault("start_date", "2020-01-01")
    status, body = api.post(
        "/budgets",
        user,
        budget_body(
            [{"category_id": str(cats["food"]), "allocated_amount": "100.00", "alert_threshold": 0.8}], **overrides
        ),
    )
    assert status == 201, body
    return body


def _spend(conn, user, amount, cats, account=None):
    make_transaction(
        conn, user["id"], account or user["account"], amount, day=date.today(), category_id=cats["groceries"]
    )


def test_threshold_then_exceeded_each_once_per_period(api, owner, cats, conn):
    _budget(api, owner, cats)
    _spend(conn, owner, "-79.99", cats)
    assert run_budget_alerts().alerts_created == 0

    _spend(conn, owner, "-0.01", cats)  # exactly 80 %: the threshold is reached
    assert run_budget_alerts().alerts_created == 1
    assert run_budget_alerts().alerts_created == 0
    alerts = _alerts(conn)
    assert [a["level"] for a in alerts] == ["warning"]
    assert "Food & Dining" in alerts[0]["message"] and "80.00 of 100.00 USD" in alerts[0]["message"]

    _spend(conn, owner, "-20.00", cats)  # exactly 100 %: not exceeded yet
    assert run_budget_alerts().alerts_created == 0
    _spend(conn, owner, "-0.01", cats)
    report = run_budget_alerts()
    assert report.alerts_created == 1 and report.users_notified == 1
    assert [a["level"] for a in _alerts(conn)] == ["warning", "exceeded"]
    assert run_budget_alerts().alerts_created == 0


def test_dry_run_counts_without_writing(api, owner, cats, conn):
    _budget(api, owner, cats)
    _spend(conn, owner, "-150.00", cats)
    report = run_budget_alerts(dry_run=True)
    assert report.dry_run and report.alerts_created == 2
    assert _alerts(conn) == []
    assert run_budget_alerts().alerts_created == 2


def test_two_overlapping_runs_alert_once(api, make_user, cats, conn):
    users = []
    for _ in range(20):
        user = make_user()
        user["account"] = make_account(conn, user["id"])
        _budget(api, user, cats)
        _spend(conn, user, "-120.00", cats)
        users.append(user)
    barrier = threading.Barrier(2)
    reports = []

    def run():
        barrier.wait()
        reports.append(run_budget_alerts())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.alerts_created for r in reports) == 40
    assert len(_alerts(conn)) == 40
    assert len({a["dedupe_key"] for a in _alerts(conn)}) == 40


def test_inactive_and_out_of_period_budgets_do_not_alert(api, owner, cats, conn):
    b = _budget(api, owner, cats)
    api.patch(f"/budgets/{b['id']}", owner, {"is_active": False})
    _budget(api, owner, cats, period_type="custom", end_date="2020-12-31")
    _spend(conn, owner, "-500.00", cats)
    assert run_budget_alerts().alerts_created == 0


def test_a_family_budget_alerts_every_member_on_family_spending(api, make_user, cats, conn):
    owner, member = make_user(), make_user()
    family = make_family(conn, owner["id"], members={member["id"]: "member"})
    shared = make_account(conn, member["id"], family_id=family)
    _budget(api, owner, cats, family_id=str(family))
    make_transaction(conn, member["id"], shared, "-85.00", day=date.today(), category_id=cats["restaurants"])
    assert run_budget_alerts().alerts_created == 2
    assert {a["user_id"] for a in _alerts(conn)} == {owner["id"], member["id"]}


def test_the_per_user_pass_after_an_import_touches_only_that_users_budgets(api, make_user, cats, conn):
    me, other = make_user(), make_user()
    for user in (me, other):
        user["account"] = make_account(conn, user["id"])
        _budget(api, user, cats)
        _spend(conn, user, "-90.00", cats)
    with db.transaction() as tx:
        created = evaluate_budget_alerts_for_user(tx, user_id=me["id"])
    assert created == 1
    assert [a["user_id"] for a in _alerts(conn)] == [me["id"]]


def test_the_current_period_is_taken_in_the_owners_timezone(api, make_user, cats, conn):
    # UTC+14 and UTC-11 are 25 hours apart: their dates always differ.
    ahead, behind = make_user(timezone="Pacific/Kiritimati"), make_user(timezone="Pacific/Pago_Pago")
    start = local_today("Pacific/Kiritimati")
    for user in (ahead, behind):
        user["account"] = make_account(conn, user["id"])
        _budget(
            api,
            user,
            cats,
            period_type="custom",
            start_date=start.isoformat(),
            end_date=(start + timedelta(days=3)).isoformat(),
        )
        make_transaction(conn, user["id"], user["account"], "-100.00", day=start, category_id=cats["food"])
    assert run_budget_alerts().alerts_created == 1
    assert [a["user_id"] for a in _alerts(conn)] == [ahead["id"]]
