"""GET|POST /categorization-rules, PATCH|DELETE /categorization-rules/{id}."""

import json
import uuid

from tests.factories import default_category, make_family

RULE_KEYS = {
    "id", "user_id", "family_id", "category_id", "field", "match_type", "pattern", "priority", "is_active",
    "created_at", "updated_at",
}  # fmt: skip


def _call(client, method, path, user, body=None):
    kwargs = {"headers": user["headers"]}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    response = getattr(client.http, method)(path, **kwargs)
    return response.status_code, json.loads(response.body) if response.body else None


def test_create_list_update_delete_a_rule(client, conn, owner):
    coffee = str(default_category(conn, "Coffee Shops", "Food & Dining"))

    status, rule = _call(
        client, "post", "/categorization-rules", owner, {"category_id": coffee, "pattern": "blue bottle"}
    )
    assert status == 201 and set(rule) == RULE_KEYS
    assert (rule["match_type"], rule["field"], rule["priority"], rule["is_active"]) == ("contains", "any", 100, True)

    status, page = _call(client, "get", "/categorization-rules", owner)
    assert status == 200 and [r["id"] for r in page["items"]] == [rule["id"]] and page["next_cursor"] is None

    status, changed = _call(client, "patch", f"/categorization-rules/{rule['id']}", owner,
                            {"match_type": "regex", "pattern": "^blue (bottle|tokai)", "priority": 5})  # fmt: skip
    assert status == 200 and (changed["match_type"], changed["priority"]) == ("regex", 5)

    assert _call(client, "delete", f"/categorization-rules/{rule['id']}", owner)[0] == 204
    assert _call(client, "get", "/categorization-rules", owner)[1]["items"] == []


def test_strangers_get_404_and_family_viewers_403(client, conn, make_user, owner):
    viewer, stranger = make_user(), make_user()
    family = make_family(conn, owner["id"], members={viewer["id"]: "viewer"})
    groceries = str(default_category(conn, "Groceries", "Food & Dining"))
    _, rule = _call(client, "post", "/categorization-rules", owner,
                    {"category_id": groceries, "pattern": "market", "family_id": str(family)})  # fmt: skip
    path = f"/categorization-rules/{rule['id']}"

    assert [r["id"] for r in _call(client, "get", "/categorization-rules", viewer)[1]["items"]] == [rule["id"]]
    assert _call(client, "patch", path, viewer, {"priority": 1})[0] == 403
    assert _call(client, "delete", path, viewer)[0] == 403
    assert _call(client, "patch", path, stranger, {"priority": 1})[0] == 404
    assert _call(client, "delete", path, stranger)[0] == 404
    assert _call(client, "get", "/categorization-rules", stranger)[1]["items"] == []
    status, _ = _call(client, "post", "/categorization-rules", viewer,
                      {"category_id": groceries, "pattern": "x", "family_id": str(family)})  # fmt: skip
    assert status == 403


def test_the_category_must_be_visible_and_fit_the_rule(client, conn, make_user, owner):
    stranger = make_user()
    theirs = conn.execute(
        "INSERT INTO categories (name, user_id) VALUES ('Secret', %s) RETURNING id", (stranger["id"],)
    ).fetchone()["id"]
    mine = conn.execute(
        "INSERT INTO categories (name, user_id) VALUES ('Mine', %s) RETURNING id", (owner["id"],)
    ).fetchone()["id"]
    family = make_family(conn, owner["id"])

    assert _call(client, "post", "/categorization-rules", owner, {"category_id": str(theirs), "pattern": "x"})[0] == 404
    assert (
        _call(client, "post", "/categorization-rules", owner, {"category_id": str(uuid.uuid4()), "pattern": "x"})[0]
        == 404
    )
    status, body = _call(client, "post", "/categorization-rules", owner,
                         {"category_id": str(mine), "pattern": "x", "family_id": str(family)})  # fmt: skip
    assert (status, body["error"]["details"][0]["field"]) == (400, "category_id")


def test_invalid_rules_are_400(client, conn, owner):
    coffee = str(default_category(conn, "Coffee Shops", "Food & Dining"))

    for body in (
        {"category_id": coffee, "pattern": "(unclosed", "match_type": "regex"},
        {"category_id": coffee, "pattern": "   "},
        {"category_id": coffee, "pattern": "x", "match_type": "fuzzy"},
        {"category_id": coffee, "pattern": "x", "field": "notes"},
    ):
        status, answer = _call(client, "post", "/categorization-rules", owner, body)
        assert (status, answer["error"]["code"]) == (400, "validation_error"), body
