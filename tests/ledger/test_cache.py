"""The API response cache: per-user keys, invalidation on write (family members too),
and straight-to-PostgreSQL when Redis is down."""

from chalicelib.infra import cache
from chalicelib.infra.settings import get_settings
from tests.factories import make_account, make_transaction


def _api_keys(redis_client, endpoint, user_id):
    prefix = get_settings().redis_key_prefix
    return list(redis_client.scan_iter(match=f"{prefix}cache:api:{endpoint}:{user_id}:*"))


def test_answers_are_cached_per_user_and_never_shared(api, make_user, conn, redis_clean):
    alice, bob = make_user(), make_user()
    make_transaction(conn, alice["id"], make_account(conn, alice["id"]), "-1.00", description="alice only")

    first = api.get("/transactions", alice)
    assert len(first.body["items"]) == 1
    assert len(_api_keys(redis_clean, "transactions", alice["id"])) == 1
    # Same endpoint and parameters, other user: never alice's cached answer.
    assert api.get("/transactions", bob).body["items"] == []
    assert len(_api_keys(redis_clean, "transactions", bob["id"])) == 1
    # The cache really answers: a change behind the API's back stays invisible until a write.
    conn.execute("UPDATE transactions SET description = 'changed behind the api'")
    assert api.get("/transactions", alice).body == first.body


def test_a_write_is_visible_in_the_very_next_read_for_every_family_member(api, household, conn, redis_clean):
    h = household
    joint = make_account(conn, h.owner["id"], family_id=h.family_id, opening_balance="50.00")
    for who in (h.owner, h.viewer):
        assert api.get("/transactions", who).body["items"] == []
        assert api.get(f"/accounts/{joint}", who).body["balance"] == "50.00"

    t = api.post(
        "/transactions",
        h.member,
        {"account_id": str(joint), "amount": "-5.00", "description": "Milk", "transaction_date": "2025-06-01"},
    ).body

    for who in (h.owner, h.viewer):
        assert [x["id"] for x in api.get("/transactions", who).body["items"]] == [t["id"]]
        assert api.get(f"/accounts/{joint}", who).body["balance"] == "45.00"
    assert api.get(f"/transactions/{t['id']}", h.viewer).body["description"] == "Milk"
    api.patch(f"/transactions/{t['id']}", h.member, {"description": "Oat milk"})
    assert api.get(f"/transactions/{t['id']}", h.viewer).body["description"] == "Oat milk"
    cat = api.post("/categories", h.admin, {"name": "Dairy", "family_id": str(h.family_id)}).body
    assert cat["id"] in {c["id"] for c in api.get("/categories", h.viewer).body["items"]}


def test_losing_membership_drops_cached_family_data(api, household, conn, redis_clean):
    h = household
    joint = make_account(conn, h.owner["id"], family_id=h.family_id)
    assert len(api.get("/accounts", h.viewer).body["items"]) == 1
    assert api.delete(f"/families/{h.family_id}/members/{h.viewer['id']}", h.admin).status == 204
    assert api.get("/accounts", h.viewer).body["items"] == []
    assert api.get(f"/accounts/{joint}", h.viewer).status == 404


def test_joining_a_family_shows_its_data_in_the_very_next_read(api, household, make_user, conn, redis_clean):
    h = household
    newcomer = make_user()
    joint = make_account(conn, h.owner["id"], family_id=h.family_id)
    make_transaction(conn, h.owner["id"], joint, "-12.50", description="Family groceries", family_id=h.family_id)
    assert api.get("/accounts", newcomer).body["items"] == []
    assert api.get("/analytics/spending?group_by=account", newcomer).body["total"] == "0.00"

    added = api.post(f"/families/{h.family_id}/members", h.admin, {"email": newcomer["email"], "role": "viewer"})
    assert added.status == 201
    assert [a["id"] for a in api.get("/accounts", newcomer).body["items"]] == [str(joint)]
    assert api.get("/analytics/spending?group_by=account", newcomer).body["total"] == "12.50"


def test_redis_down_goes_straight_to_postgres(api, make_user, conn, monkeypatch, redis_clean):
    user = make_user()
    acc = make_account(conn, user["id"])
    settings = get_settings().model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    monkeypatch.setattr("chalicelib.infra.cache.get_settings", lambda: settings)
    cache.reset()

    assert api.get("/transactions", user).body["items"] == []
    make_transaction(conn, user["id"], acc, "-3.00")
    assert len(api.get("/transactions", user).body["items"]) == 1
    assert api.get(f"/accounts/{acc}", user).body["balance"] == "-3.00"
    r = api.post(
        "/transactions",
        user,
        {"account_id": str(acc), "amount": "-1.00", "description": "x", "transaction_date": "2025-01-01"},
    )
    assert r.status == 201
    assert len(api.get("/transactions", user).body["items"]) == 2
    monkeypatch.undo()
    cache.reset()
