"""GET /search/categories: defaults, own and families' categories, same word rules."""

import json
from urllib.parse import urlencode

from tests import factories


def names(client, user, q):
    response = client.http.get(f"/search/categories?{urlencode({'q': q})}", headers=user["headers"])
    assert response.status_code == 200, response.body
    return [c["name"] for c in json.loads(response.body)["items"]]


def _category(conn, name, *, user_id=None, family_id=None):
    return conn.execute(
        "INSERT INTO categories (name, user_id, family_id, is_default) VALUES (%s, %s, %s, FALSE) RETURNING id",
        (name, user_id, family_id),
    ).fetchone()["id"]


def test_defaults_own_and_family_categories_match_by_prefix_typo_and_accent(client, conn, make_user):
    user, other, member = make_user(), make_user(), make_user()
    family = factories.make_family(conn, member["id"], members={user["id"]: "viewer"})
    _category(conn, "Épicerie fine", user_id=user["id"])
    _category(conn, "Family groceries", family_id=family)
    _category(conn, "Secret groceries", user_id=other["id"])

    # Same score (a prefix match): own and family categories before the defaults.
    assert names(client, user, "groc") == ["Family groceries", "Groceries"]
    assert names(client, user, "epicerie") == ["Épicerie fine"]
    assert names(client, user, "grocerie") == ["Family groceries", "Groceries"]  # prefix of the last word
    assert "Secret groceries" not in names(client, user, "groceries")
    assert names(client, user, "restaurnts") == ["Restaurants"]
    assert names(client, user, "coffee shops") == ["Coffee Shops"]
    assert names(client, other, "family") == []


def test_blank_or_long_q_is_rejected(client, make_user):
    user = make_user()
    for q in ("", " ", "x" * 201):
        response = client.http.get(f"/search/categories?{urlencode({'q': q})}", headers=user["headers"])
        assert response.status_code == 400


def test_a_member_of_another_family_never_sees_this_familys_categories(client, conn, make_user):
    # The scope now comes from Access.category_visible; a caller with families of their
    # own takes its other branch (family_id = ANY(their families)).
    owner, stranger, stranger_member = make_user(), make_user(), make_user()
    factories.make_family(conn, owner["id"])
    theirs = factories.make_family(conn, stranger["id"], members={stranger_member["id"]: "member"})
    _category(conn, "Household groceries", family_id=factories.make_family(conn, owner["id"]))
    _category(conn, "Stranger groceries", family_id=theirs)

    assert names(client, owner, "groceries") == ["Household groceries", "Groceries"]
    assert names(client, stranger_member, "groceries") == ["Stranger groceries", "Groceries"]
