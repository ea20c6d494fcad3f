"""Families, members and roles through the API."""

from tests.factories import default_category, make_account, make_transaction
from tests.ledger.conftest import count


def test_the_creator_becomes_owner_and_only_members_see_the_family(api, make_user):
    alice, bob = make_user(), make_user()
    r = api.post("/families", alice, {"name": " Smiths ", "description": "home"})
    assert r.status == 201
    assert r.body["name"] == "Smiths" and r.body["role"] == "owner" and r.body["owner_id"] == str(alice["id"])
    fid = r.body["id"]

    assert [f["id"] for f in api.get("/families", alice).body["items"]] == [fid]
    assert api.get("/families", bob).body["items"] == []
    assert api.get(f"/families/{fid}", bob).status == 404
    assert api.get(f"/families/{fid}/members", bob).status == 404
    assert api.patch(f"/families/{fid}", bob, {"name": "x"}).status == 404
    assert api.delete(f"/families/{fid}", bob).status == 404


def test_patch_needs_admin_and_delete_needs_owner(api, household, conn):
    h = household
    fid = h.family_id
    assert api.patch(f"/families/{fid}", h.member, {"name": "No"}).status == 403
    assert api.patch(f"/families/{fid}", h.viewer, {"name": "No"}).status == 403
    r = api.patch(f"/families/{fid}", h.admin, {"name": "Renamed"})
    assert r.status == 200 and r.body["name"] == "Renamed" and r.body["role"] == "admin"
    assert api.patch(f"/families/{fid}", h.admin, {"name": None}).status == 400
    assert api.delete(f"/families/{fid}", h.admin).status == 403
    assert count(conn, "family_groups") == 1
    assert api.delete(f"/families/{fid}", h.owner).status == 204
    assert count(conn, "family_groups") == 0
    assert count(conn, "audit_logs", "action = 'family.delete' AND resource_type = 'family'") == 1


def test_adding_members_by_email(api, household, make_user, conn):
    h = household
    fid = h.family_id
    newcomer = make_user(email="New.Comer@example.com")
    assert api.post(f"/families/{fid}/members", h.member, {"email": newcomer["email"], "role": "viewer"}).status == 403
    r = api.post(f"/families/{fid}/members", h.admin, {"email": "NEW.comer@example.com", "role": "member"})
    assert r.status == 201 and r.body["user_id"] == str(newcomer["id"]) and r.body["role"] == "member"
    assert api.post(f"/families/{fid}/members", h.admin, {"email": newcomer["email"], "role": "member"}).status == 409
    assert (
        api.post(f"/families/{fid}/members", h.admin, {"email": "nobody@example.com", "role": "member"}).status == 404
    )
    assert api.post(f"/families/{fid}/members", h.owner, {"email": h.stranger["email"], "role": "owner"}).status == 400
    assert (
        api.post(f"/families/{fid}/members", h.stranger, {"email": h.stranger["email"], "role": "admin"}).status == 404
    )
    members = api.get(f"/families/{fid}/members", h.viewer).body["items"]
    assert {m["email"] for m in members} >= {h.owner["email"], newcomer["email"]}
    assert set(members[0]) == {"user_id", "email", "first_name", "last_name", "role", "joined_at"}
    assert count(conn, "audit_logs", "action = 'family_member.create'") == 1


def test_the_owner_cannot_leave_without_handing_ownership_over(api, household, conn):
    h = household
    fid = h.family_id
    assert api.delete(f"/families/{fid}/members/{h.owner['id']}", h.owner).status == 409
    assert api.patch(f"/families/{fid}/members/{h.owner['id']}", h.owner, {"role": "admin"}).status == 409
    assert api.patch(f"/families/{fid}/members/{h.member['id']}", h.admin, {"role": "owner"}).status == 403

    r = api.patch(f"/families/{fid}/members/{h.member['id']}", h.owner, {"role": "owner"})

    assert r.status == 200 and r.body["role"] == "owner"
    roles = {m["user_id"]: m["role"] for m in api.get(f"/families/{fid}/members", h.owner).body["items"]}
    assert roles[str(h.owner["id"])] == "admin" and roles[str(h.member["id"])] == "owner"
    assert api.get(f"/families/{fid}", h.member).body["owner_id"] == str(h.member["id"])
    assert count(conn, "family_members", "family_id = %s AND role = 'owner'", (fid,)) == 1
    assert api.delete(f"/families/{fid}/members/{h.owner['id']}", h.owner).status == 204


def test_members_leave_and_admins_remove_lower_roles_only(api, household, make_user, conn):
    h = household
    fid = h.family_id
    other_admin = make_user()
    conn.execute(
        "INSERT INTO family_members (family_id, user_id, role) VALUES (%s, %s, 'admin')", (fid, other_admin["id"])
    )
    assert api.delete(f"/families/{fid}/members/{h.viewer['id']}", h.member).status == 403
    assert api.delete(f"/families/{fid}/members/{other_admin['id']}", h.admin).status == 403
    assert api.patch(f"/families/{fid}/members/{other_admin['id']}", h.admin, {"role": "viewer"}).status == 403
    assert api.patch(f"/families/{fid}/members/{h.viewer['id']}", h.admin, {"role": "member"}).body["role"] == "member"
    assert api.delete(f"/families/{fid}/members/{h.viewer['id']}", h.admin).status == 204
    assert api.delete(f"/families/{fid}/members/{h.member['id']}", h.member).status == 204
    assert api.get(f"/families/{fid}", h.member).status == 404
    assert api.delete(f"/families/{fid}/members/{h.stranger['id']}", h.owner).status == 404


def test_deleting_a_family_is_refused_while_it_has_accounts(api, household, conn):
    h = household
    acc = make_account(conn, h.owner["id"], family_id=h.family_id)
    r = api.delete(f"/families/{h.family_id}", h.owner)
    assert r.status == 409 and r.body["error"]["code"] == "conflict"
    assert count(conn, "family_groups") == 1 and count(conn, "accounts", "id = %s", (acc,)) == 1


def test_deleting_a_family_uncategorizes_outside_transactions_filed_under_its_categories(api, household, conn):
    h = household
    category = api.post("/categories", h.admin, {"name": "Pocket money", "family_id": str(h.family_id)}).body
    personal = make_account(conn, h.member["id"])
    t = make_transaction(conn, h.member["id"], personal, "-5.00", category_id=category["id"])
    kept = make_transaction(conn, h.member["id"], personal, "-6.00", category_id=default_category(conn, "Other"))
    conn.execute("DELETE FROM outbox")

    assert api.delete(f"/families/{h.family_id}", h.owner).status == 204

    assert conn.execute("SELECT category_id FROM transactions WHERE id = %s", (t,)).fetchone()["category_id"] is None
    assert conn.execute("SELECT category_id FROM transactions WHERE id = %s", (kept,)).fetchone()["category_id"]
    assert count(conn, "categories", "id = %s", (category["id"],)) == 0
    assert count(conn, "outbox", "aggregate_type = 'transaction' AND aggregate_id = %s", (t,)) == 1
    assert count(conn, "outbox", "aggregate_type = 'category' AND operation = 'delete'") == 1
    assert api.get("/families", h.member).body["items"] == []
