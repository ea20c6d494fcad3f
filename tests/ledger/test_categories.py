"""Categories through the API: visibility, ownership, tree rules, deletion."""

from uuid import UUID

from tests.factories import default_category, make_account, make_transaction
from tests.ledger.conftest import count


def _names(api, user):
    return {c["name"] for c in api.get("/categories", user).body["items"]}


def test_defaults_plus_own_plus_families_and_nobody_elses(api, household, make_user):
    h = household
    api.post("/categories", h.member, {"name": "Member's own"})
    api.post("/categories", h.admin, {"name": "Family's", "family_id": str(h.family_id)})
    api.post("/categories", h.stranger, {"name": "Stranger's"})

    names = _names(api, h.viewer)
    assert {"Income", "Salary", "Groceries", "Rent", "Fuel", "Other"} <= names
    assert "Family's" in names and "Member's own" not in names and "Stranger's" not in names
    assert {"Member's own", "Family's"} <= _names(api, h.member)
    assert "Family's" not in _names(api, h.stranger)
    item = api.get("/categories", h.viewer).body["items"][0]
    assert set(item) == {
        "id",
        "name",
        "description",
        "icon",
        "color",
        "parent_id",
        "is_default",
        "user_id",
        "family_id",
        "sort_order",
    }


def test_defaults_are_read_only_and_others_categories_are_not_found(api, make_user, conn):
    alice, bob = make_user(), make_user()
    groceries = default_category(conn, "Groceries", "Food & Dining")
    assert api.patch(f"/categories/{groceries}", alice, {"name": "Mine"}).status == 403
    assert api.delete(f"/categories/{groceries}", alice).status == 403
    own = api.post("/categories", alice, {"name": "Hobby", "color": "#A1b2C3", "icon": "paint-brush"}).body
    assert own["user_id"] == str(alice["id"]) and own["is_default"] is False
    assert api.get(f"/categories/{own['id']}", bob).status == 404
    assert api.patch(f"/categories/{own['id']}", bob, {"name": "x"}).status == 404
    assert api.delete(f"/categories/{own['id']}", bob).status == 404
    assert api.patch(f"/categories/{own['id']}", alice, {"color": "#000000"}).body["color"] == "#000000"


def test_colour_icon_and_name_validation(api, make_user, conn):
    user = make_user()
    for bad in (
        {"name": "x", "color": "red"},
        {"name": "x", "color": "#12345"},
        {"name": "x", "color": "#GGGGGG"},
        {"name": "x", "icon": "<svg onload=alert(1)>"},
        {"name": "x", "icon": "https://evil.example/x.png"},
        {"name": ""},
        {"name": "x", "is_default": True},
    ):
        assert api.post("/categories", user, bad).status == 400, bad
    assert count(conn, "categories", "NOT is_default") == 0


def test_parents_must_be_visible_compatible_acyclic_and_shallow(api, household, conn):
    h = household
    food = default_category(conn, "Food & Dining")
    a = api.post("/categories", h.member, {"name": "A", "parent_id": str(food)}).body
    b = api.post("/categories", h.member, {"name": "B", "parent_id": a["id"]}).body
    c = api.post("/categories", h.member, {"name": "C", "parent_id": b["id"]}).body
    assert api.post("/categories", h.member, {"name": "D", "parent_id": c["id"]}).status == 400  # 5 levels
    assert api.patch(f"/categories/{a['id']}", h.member, {"parent_id": c["id"]}).status == 400  # cycle
    assert api.patch(f"/categories/{a['id']}", h.member, {"parent_id": a["id"]}).status == 400
    stranger_cat = api.post("/categories", h.stranger, {"name": "S"}).body
    assert api.post("/categories", h.member, {"name": "E", "parent_id": stranger_cat["id"]}).status == 404
    fam = api.post("/categories", h.admin, {"name": "F", "family_id": str(h.family_id)}).body
    assert api.post("/categories", h.member, {"name": "G", "parent_id": fam["id"]}).status == 400
    moved = api.patch(f"/categories/{c['id']}", h.member, {"parent_id": a["id"]})
    assert moved.status == 200 and moved.body["parent_id"] == a["id"]


def test_family_categories_are_managed_by_admins(api, household):
    h = household
    body = {"name": "Shared", "family_id": str(h.family_id)}
    assert api.post("/categories", h.member, body).status == 403
    assert api.post("/categories", h.stranger, body).status == 404
    cat = api.post("/categories", h.owner, body).body
    assert cat["family_id"] == str(h.family_id) and cat["user_id"] is None
    assert api.patch(f"/categories/{cat['id']}", h.viewer, {"name": "x"}).status == 403
    assert api.delete(f"/categories/{cat['id']}", h.member).status == 403
    assert api.patch(f"/categories/{cat['id']}", h.admin, {"name": "Ours"}).body["name"] == "Ours"


def test_deleting_moves_children_and_transactions_to_the_parent(api, make_user, conn):
    user = make_user()
    top = api.post("/categories", user, {"name": "Top"}).body
    mid = api.post("/categories", user, {"name": "Mid", "parent_id": top["id"]}).body
    leaf = api.post("/categories", user, {"name": "Leaf", "parent_id": mid["id"]}).body
    acc = make_account(conn, user["id"])
    on_mid = make_transaction(conn, user["id"], acc, "-1.00", category_id=mid["id"])
    on_top = make_transaction(conn, user["id"], acc, "-2.00", category_id=top["id"])
    conn.execute("DELETE FROM outbox")

    assert api.delete(f"/categories/{mid['id']}", user).status == 204
    assert conn.execute("SELECT category_id FROM transactions WHERE id = %s", (on_mid,)).fetchone()[
        "category_id"
    ] == UUID(top["id"])
    assert api.get(f"/categories/{leaf['id']}", user).body["parent_id"] == top["id"]

    assert api.delete(f"/categories/{top['id']}", user).status == 204
    assert (
        conn.execute("SELECT category_id FROM transactions WHERE id = %s", (on_top,)).fetchone()["category_id"] is None
    )
    assert (
        conn.execute("SELECT category_id FROM transactions WHERE id = %s", (on_mid,)).fetchone()["category_id"] is None
    )
    assert api.get(f"/categories/{leaf['id']}", user).body["parent_id"] is None
    outbox = {(r["aggregate_type"], r["operation"]) for r in conn.execute("SELECT * FROM outbox")}
    assert outbox == {("category", "delete"), ("category", "upsert"), ("transaction", "upsert")}
    assert count(conn, "audit_logs", "action = 'category.delete'") == 2
