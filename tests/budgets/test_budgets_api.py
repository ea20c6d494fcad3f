from datetime import date, timedelta

from chalicelib.core.dates import local_today
from tests.budgets.conftest import budget_body
from tests.factories import make_account, make_family, make_transaction


def _count(conn, table):
    return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]


def test_create_echoes_categories_and_reads_back(api, owner, cats):
    status, body = api.post(
        "/budgets",
        owner,
        budget_body([{"category_id": str(cats["food"]), "allocated_amount": "400", "alert_threshold": 0.9}]),
    )
    assert status == 201
    assert body["categories"] == [
        {"category_id": str(cats["food"]), "allocated_amount": "400.00", "alert_threshold": 0.9}
    ]
    assert body["total_amount"] == "1000.00" and body["user_id"] == str(owner["id"]) and body["family_id"] is None
    assert "spent_amount" not in body["categories"][0]

    status, again = api.get(f"/budgets/{body['id']}", owner)
    assert status == 200 and again == body
    status, page = api.get("/budgets", owner)
    assert status == 200 and [b["id"] for b in page["items"]] == [body["id"]] and page["next_cursor"] is None


def test_default_threshold_is_0_80(api, owner, cats):
    _, body = api.post("/budgets", owner, budget_body([{"category_id": str(cats["food"]), "allocated_amount": "1"}]))
    assert body["categories"][0]["alert_threshold"] == 0.8


def test_bad_input_is_400_with_field_details_and_writes_nothing(api, owner, cats, make_user, conn):
    stranger = make_user()
    foreign = conn.execute(
        "INSERT INTO categories (name, user_id) VALUES ('Secret', %s) RETURNING id", (stranger["id"],)
    ).fetchone()["id"]
    line = {"category_id": str(cats["food"]), "allocated_amount": "10"}
    cases = [
        (budget_body([{**line, "allocated_amount": "0"}]), "categories.0.allocated_amount"),
        (budget_body([{**line, "allocated_amount": "-5"}]), "categories.0.allocated_amount"),
        (budget_body([{**line, "alert_threshold": 1.5}]), "categories.0.alert_threshold"),
        (budget_body([{**line, "alert_threshold": -0.1}]), "categories.0.alert_threshold"),
        (budget_body([{"category_id": str(foreign), "allocated_amount": "10"}]), "categories.0.category_id"),
        (budget_body([line], period_type="custom"), "end_date"),
        (budget_body([line], end_date="2023-12-31"), "end_date"),
        (budget_body([line], end_date="2024-01-01"), "end_date"),
        (budget_body([line], total_amount="0"), "total_amount"),
        (budget_body([line, line]), "categories"),
    ]
    for body, field in cases:
        status, err = api.post("/budgets", owner, body)
        assert status == 400, (field, err)
        assert err["error"]["code"] == "validation_error"
        assert field in [d["field"] for d in err["error"]["details"]], (field, err)
    assert _count(conn, "budgets") == 0 and _count(conn, "budget_categories") == 0


def test_patch_validates_the_merged_budget_and_replaces_categories(api, owner, cats, conn):
    _, created = api.post(
        "/budgets", owner, budget_body([{"category_id": str(cats["food"]), "allocated_amount": "10"}])
    )
    status, err = api.patch(f"/budgets/{created['id']}", owner, {"period_type": "custom"})
    assert status == 400 and err["error"]["details"][0]["field"] == "end_date"
    status, err = api.patch(f"/budgets/{created['id']}", owner, {"end_date": "2023-06-01"})
    assert status == 400

    status, body = api.patch(
        f"/budgets/{created['id']}",
        owner,
        {"name": "Food only", "categories": [{"category_id": str(cats["groceries"]), "allocated_amount": "55.50"}]},
    )
    assert status == 200 and body["name"] == "Food only"
    assert body["categories"] == [
        {"category_id": str(cats["groceries"]), "allocated_amount": "55.50", "alert_threshold": 0.8}
    ]
    assert _count(conn, "budget_categories") == 1

    assert api.delete(f"/budgets/{created['id']}", owner)[0] == 204
    assert api.get(f"/budgets/{created['id']}", owner)[0] == 404


def test_a_stranger_gets_404_everywhere(api, owner, cats, make_user):
    _, created = api.post(
        "/budgets", owner, budget_body([{"category_id": str(cats["food"]), "allocated_amount": "10"}])
    )
    stranger = make_user()
    path = f"/budgets/{created['id']}"
    assert api.get(path, stranger)[0] == 404
    assert api.get(path + "/status", stranger)[0] == 404
    assert api.patch(path, stranger, {"name": "x"})[0] == 404
    assert api.delete(path, stranger)[0] == 404
    assert api.get("/budgets", stranger)[1]["items"] == []


def test_family_roles_viewer_reads_member_cannot_manage_admin_manages(api, make_user, cats, conn):
    owner, admin, member, viewer = make_user(), make_user(), make_user(), make_user()
    family = make_family(
        conn, owner["id"], members={admin["id"]: "admin", member["id"]: "member", viewer["id"]: "viewer"}
    )
    body = budget_body([{"category_id": str(cats["food"]), "allocated_amount": "10"}], family_id=str(family))
    assert api.post("/budgets", viewer, body)[0] == 403
    assert api.post("/budgets", member, body)[0] == 403
    status, created = api.post("/budgets", admin, body)
    assert status == 201
    path = f"/budgets/{created['id']}"
    assert api.get(path, viewer)[0] == 200
    assert api.get(path + "/status?date=2024-02-10", viewer)[0] == 200
    assert api.patch(path, viewer, {"name": "x"})[0] == 403
    assert api.patch(path, member, {"name": "x"})[0] == 403
    assert api.delete(path, viewer)[0] == 403
    assert api.patch(path, owner, {"name": "Ours"})[0] == 200


def test_a_family_budget_may_not_name_a_members_personal_category(api, make_user, conn):
    owner = make_user()
    family = make_family(conn, owner["id"])
    mine = conn.execute(
        "INSERT INTO categories (name, user_id) VALUES ('Mine', %s) RETURNING id", (owner["id"],)
    ).fetchone()["id"]
    ours = conn.execute(
        "INSERT INTO categories (name, family_id) VALUES ('Ours', %s) RETURNING id", (family,)
    ).fetchone()["id"]
    status, _ = api.post(
        "/budgets", owner, budget_body([{"category_id": str(mine), "allocated_amount": "1"}], family_id=str(family))
    )
    assert status == 400
    status, _ = api.post(
        "/budgets", owner, budget_body([{"category_id": str(ours), "allocated_amount": "1"}], family_id=str(family))
    )
    assert status == 201
    status, _ = api.post("/budgets", owner, budget_body([{"category_id": str(mine), "allocated_amount": "1"}]))
    assert status == 201


def test_status_rolls_up_subcategories_refunds_and_ignores_cancelled(api, owner, cats, conn):
    _, b = api.post(
        "/budgets",
        owner,
        budget_body(
            [
                {"category_id": str(cats["food"]), "allocated_amount": "100.00", "alert_threshold": 0.5},
                {"category_id": str(cats["shopping"]), "allocated_amount": "50.00"},
            ]
        ),
    )
    u, acc = owner["id"], owner["account"]
    make_transaction(conn, u, acc, "-30.00", day=date(2024, 2, 1), category_id=cats["groceries"])
    make_transaction(conn, u, acc, "-25.50", day=date(2024, 2, 29), category_id=cats["restaurants"])
    make_transaction(conn, u, acc, "-10.00", day=date(2024, 2, 10), category_id=cats["food"])
    make_transaction(conn, u, acc, "5.50", day=date(2024, 2, 11), category_id=cats["groceries"])  # refund
    make_transaction(conn, u, acc, "-500.00", day=date(2024, 2, 12), category_id=cats["food"], status="cancelled")
    make_transaction(conn, u, acc, "-99.00", day=date(2024, 1, 31), category_id=cats["food"])  # other period
    make_transaction(conn, u, acc, "-99.00", day=date(2024, 3, 1), category_id=cats["food"])  # other period
    make_transaction(conn, u, acc, "20.00", day=date(2024, 2, 3), category_id=cats["shopping"])  # refund only

    status, s = api.get(f"/budgets/{b['id']}/status?date=2024-02-15", owner)
    assert status == 200
    assert (s["period_start"], s["period_end"]) == ("2024-02-01", "2024-02-29")
    by_cat = {c["category_id"]: c for c in s["categories"]}
    food = by_cat[str(cats["food"])]
    assert food == {
        "category_id": str(cats["food"]),
        "allocated_amount": "100.00",
        "spent_amount": "60.00",
        "remaining_amount": "40.00",
        "percent_used": 60.0,
        "alert_threshold": 0.5,
        "state": "warning",
    }
    assert by_cat[str(cats["shopping"])]["spent_amount"] == "0.00"
    assert by_cat[str(cats["shopping"])]["state"] == "ok"
    assert s["total_allocated"] == "150.00" and s["total_spent"] == "60.00"


def test_status_counts_only_the_owners_personal_accounts_or_the_familys(api, make_user, cats, conn):
    owner, other = make_user(), make_user()
    family = make_family(conn, owner["id"], members={other["id"]: "member"})
    personal = make_account(conn, owner["id"])
    shared = make_account(conn, other["id"], family_id=family)
    strangers = make_account(conn, other["id"])
    for account, who in ((personal, owner), (shared, other), (strangers, other)):
        make_transaction(conn, who["id"], account, "-10.00", day=date(2024, 2, 5), category_id=cats["groceries"])
    line = [{"category_id": str(cats["food"]), "allocated_amount": "15"}]
    _, mine = api.post("/budgets", owner, budget_body(line))
    _, ours = api.post("/budgets", owner, budget_body(line, family_id=str(family)))

    _, s_mine = api.get(f"/budgets/{mine['id']}/status?date=2024-02-05", owner)
    _, s_ours = api.get(f"/budgets/{ours['id']}/status?date=2024-02-05", other)
    assert s_mine["categories"][0]["spent_amount"] == "10.00"
    assert s_ours["categories"][0]["spent_amount"] == "10.00"


def test_exceeded_above_100_percent_and_never_below_zero(api, owner, cats, conn):
    _, b = api.post("/budgets", owner, budget_body([{"category_id": str(cats["food"]), "allocated_amount": "10"}]))
    make_transaction(conn, owner["id"], owner["account"], "-10.00", day=date(2024, 5, 2), category_id=cats["food"])
    _, s = api.get(f"/budgets/{b['id']}/status?date=2024-05-20", owner)
    assert s["categories"][0]["state"] == "warning"  # exactly 100 % is not "exceeded"
    make_transaction(conn, owner["id"], owner["account"], "-0.01", day=date(2024, 5, 3), category_id=cats["food"])
    _, s = api.get(f"/budgets/{b['id']}/status?date=2024-05-20", owner)
    assert s["categories"][0]["state"] == "exceeded" and s["categories"][0]["remaining_amount"] == "-0.01"
    make_transaction(conn, owner["id"], owner["account"], "80.00", day=date(2024, 6, 3), category_id=cats["food"])
    _, s = api.get(f"/budgets/{b['id']}/status?date=2024-06-20", owner)
    assert s["categories"][0]["spent_amount"] == "0.00" and s["categories"][0]["state"] == "ok"


def test_status_date_defaults_to_today_in_the_owners_timezone_and_outside_is_400(api, make_user, cats, conn):
    owner = make_user(timezone="Pacific/Kiritimati")  # UTC+14: usually a day ahead of UTC
    status, b = api.post(
        "/budgets",
        owner,
        budget_body(
            [{"category_id": str(cats["food"]), "allocated_amount": "10"}],
            period_type="custom",
            start_date="2020-01-01",
            end_date="2020-01-31",
        ),
    )
    assert status == 201
    status, err = api.get(f"/budgets/{b['id']}/status", owner)
    assert status == 400 and err["error"]["details"][0]["field"] == "date"
    status, s = api.get(f"/budgets/{b['id']}/status?date=2020-01-31", owner)
    assert status == 200 and s["period_end"] == "2020-01-31"


def test_default_date_is_the_owners_today_not_the_servers(api, make_user, cats):
    # UTC+14 and UTC-11 are 25 hours apart: their dates always differ.
    ahead, behind = make_user(timezone="Pacific/Kiritimati"), make_user(timezone="Pacific/Pago_Pago")
    start = local_today("Pacific/Kiritimati")
    body = budget_body(
        [{"category_id": str(cats["food"]), "allocated_amount": "10"}],
        period_type="custom",
        start_date=start.isoformat(),
        end_date=(start + timedelta(days=5)).isoformat(),
    )
    _, for_ahead = api.post("/budgets", ahead, body)
    _, for_behind = api.post("/budgets", behind, body)
    assert api.get(f"/budgets/{for_ahead['id']}/status", ahead)[0] == 200
    assert api.get(f"/budgets/{for_behind['id']}/status", behind)[0] == 400
