from datetime import timedelta

from chalicelib.core.caching import invalidate_users
from chalicelib.core.dates import local_today
from chalicelib.infra import db
from chalicelib.notifications.service import create_notification
from tests.factories import default_category, make_account, make_family, make_transaction


def test_figures_top_categories_and_budgets_in_the_callers_timezone(api, make_user, cats, conn):
    tz = "Pacific/Kiritimati"
    user, partner, stranger = make_user(timezone=tz), make_user(), make_user()
    today = local_today(tz)
    family = make_family(conn, user["id"], members={partner["id"]: "member"})
    mine = make_account(conn, user["id"])
    shared = make_account(conn, partner["id"], family_id=family)
    theirs = make_account(conn, stranger["id"])
    first = today.replace(day=1)
    tx = [
        (user, mine, "-12.00", today, cats["groceries"]),
        (partner, shared, "-8.00", today, cats["restaurants"]),
        (user, mine, "-100.00", first, default_category(conn, "Rent", "Housing")),
        (user, mine, "-30.00", first, cats["shopping"]),
        (user, mine, "10.00", first, cats["shopping"]),  # refund
        (user, mine, "-5.00", first, None),  # uncategorized spending
        (user, mine, "2500.00", first, default_category(conn, "Salary", "Income")),
        (user, mine, "40.00", first, None),  # income without category
        (user, mine, "-999.00", today, cats["groceries"], "cancelled"),
        (user, mine, "-77.00", first - timedelta(days=1), cats["groceries"]),  # last month
        (stranger, theirs, "-55.00", today, cats["groceries"]),
    ]
    for who, account, amount, day, category, *status in tx:
        make_transaction(
            conn, who["id"], account, amount, day=day, category_id=category, status=(status or ["posted"])[0]
        )
    for name, extra in (("Fun", cats["shopping"]), ("Food", cats["food"])):
        api.post(
            "/budgets",
            user,
            {
                "name": name,
                "period_type": "monthly",
                "start_date": "2020-01-01",
                "total_amount": "100",
                "categories": [{"category_id": str(extra), "allocated_amount": "20.00"}],
            },
        )

    status, d = api.get("/dashboard", user)
    assert status == 200
    assert d["date"] == today.isoformat()
    same_day = first == today
    assert d["spent_today"] == ("145.00" if same_day else "20.00")  # on the 1st, today is the month to date
    assert d["spent_month_to_date"] == "145.00"
    assert d["income_month_to_date"] == "2540.00"
    assert d["top_categories"] == [
        {"category_id": str(default_category(conn, "Housing")), "name": "Housing", "amount": "100.00"},
        {"category_id": str(cats["food"]), "name": "Food & Dining", "amount": "20.00"},
        {"category_id": str(cats["shopping"]), "name": "Shopping", "amount": "20.00"},
    ]
    assert [(b["name"], b["state"], b["percent_used"]) for b in d["budgets"]] == [
        ("Fun", "warning", 100.0),  # worst state first
        ("Food", "ok", 60.0),  # a personal budget: the partner's shared spending is not in it
    ]
    assert d["unread_notifications"] == 0


def test_cached_until_a_write_bumps_the_generation(api, make_user, cats, conn, redis_clean):
    user = make_user()
    account = make_account(conn, user["id"])
    assert api.get("/dashboard", user)[1]["spent_today"] == "0.00"
    assert any(f"cache:api:dashboard:{user['id']}:0:" in k for k in redis_clean.scan_iter("*dashboard*"))

    make_transaction(conn, user["id"], account, "-9.99", day=local_today("UTC"), category_id=cats["food"])
    assert api.get("/dashboard", user)[1]["spent_today"] == "0.00"  # served from the cache
    invalidate_users([user["id"]])  # what the ledger's write does
    assert api.get("/dashboard", user)[1]["spent_today"] == "9.99"

    status, budget = api.post(
        "/budgets",
        user,
        {
            "name": "Food",
            "period_type": "monthly",
            "start_date": "2020-01-01",
            "total_amount": "10",
            "categories": [{"category_id": str(cats["food"]), "allocated_amount": "10.00"}],
        },
    )
    assert status == 201
    assert [b["name"] for b in api.get("/dashboard", user)[1]["budgets"]] == ["Food"]
    api.patch(f"/budgets/{budget['id']}", user, {"name": "Groceries"})
    assert [b["name"] for b in api.get("/dashboard", user)[1]["budgets"]] == ["Groceries"]

    with db.transaction() as tx:
        note = create_notification(tx, user_id=user["id"], type="system", title="t", message="m")
    assert api.get("/dashboard", user)[1]["unread_notifications"] == 1
    api.post(f"/notifications/{note}/read", user)
    assert api.get("/dashboard", user)[1]["unread_notifications"] == 0

    api.delete(f"/budgets/{budget['id']}", user)
    assert api.get("/dashboard", user)[1]["budgets"] == []


def test_a_family_budget_change_reaches_every_members_dashboard(api, make_user, cats, conn):
    admin, viewer = make_user(), make_user()
    family = make_family(conn, admin["id"], members={viewer["id"]: "viewer"})
    assert api.get("/dashboard", viewer)[1]["budgets"] == []
    status, _ = api.post(
        "/budgets",
        admin,
        {
            "name": "Shared",
            "period_type": "yearly",
            "start_date": "2020-01-01",
            "total_amount": "10",
            "family_id": str(family),
            "categories": [{"category_id": str(cats["food"]), "allocated_amount": "10.00"}],
        },
    )
    assert status == 201
    assert [b["name"] for b in api.get("/dashboard", viewer)[1]["budgets"]] == ["Shared"]


def test_the_live_figures_of_many_readers_take_the_statements_of_one_and_equal_each_dashboard(
    api, make_user, cats, conn, monkeypatch
):
    import psycopg

    from chalicelib.dashboard.service import live_figures_of

    owner = make_user()
    members = [make_user(timezone=tz) for tz in ("Pacific/Kiritimati", "UTC", "Pacific/Pago_Pago", "Europe/Paris")]
    family = make_family(conn, owner["id"], members={m["id"]: "member" for m in members})
    shared = make_account(conn, owner["id"], family_id=family)
    for m in members:
        own = make_account(conn, m["id"])
        make_transaction(conn, m["id"], own, "-3.00", day=local_today("UTC"), category_id=cats["restaurants"])
    make_transaction(conn, owner["id"], shared, "-7.00", day=local_today("UTC"), category_id=cats["groceries"])
    budget = {
        "name": "Shared food",
        "period_type": "monthly",
        "start_date": "2020-01-31",  # anchored on the 31st: readers a day apart may be in different periods
        "total_amount": "10",
        "family_id": str(family),
        "categories": [{"category_id": str(cats["food"]), "allocated_amount": "10.00"}],
    }
    assert api.post("/budgets", owner, budget)[0] == 201
    own_budget = {**budget, "name": "Mine", "family_id": None}
    assert api.post("/budgets", members[1], own_budget)[0] == 201
    readers = [owner, *members]

    statements = []
    real_execute = psycopg.Connection.execute

    def counted(self, query, *args, **kwargs):
        statements.append(query)
        return real_execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", counted)
    live_figures_of(user_ids=[owner["id"]])
    for_one = len(statements)
    statements.clear()
    figures = live_figures_of(user_ids=[r["id"] for r in readers])
    assert len(statements) == for_one
    monkeypatch.undo()

    for reader in readers:
        status, d = api.get("/dashboard", reader)
        assert status == 200
        mine = figures[reader["id"]].model_dump(mode="json")
        assert mine == {"date": d["date"], "spending_today": d["spent_today"], "budget_status": d["budgets"]}
    assert [b.name for b in figures[members[1]["id"]].budget_status] == ["Mine", "Shared food"]
    assert [b.name for b in figures[members[0]["id"]].budget_status] == ["Shared food"]
