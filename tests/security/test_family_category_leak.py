"""Issue 16, item 5: a member's personal category landed on family data. The categorizer
offered the member's own (and other families') categories for a family transaction, the
suggestion skipped the category check, and the analytics label join was unscoped, so the
owner saw the member's private category name. A family transaction now only gets a
default or that family's category, and every join that fetches a name is scoped."""

import json
from datetime import date, timedelta

from chalicelib.categorization.engine import suggest_category
from tests.factories import default_category, make_account, make_family, make_transaction

SECRET = "Secret Hobby"


def _personal_category(conn, user_id, name=SECRET):
    return conn.execute(
        "INSERT INTO categories (name, user_id) VALUES (%s, %s) RETURNING id", (name, user_id)
    ).fetchone()["id"]


def _personal_rule(conn, user_id, category_id, pattern):
    conn.execute(
        """INSERT INTO categorization_rules (user_id, category_id, field, match_type, pattern, priority)
           VALUES (%s, %s, 'any', 'contains', %s, 100)""",
        (user_id, category_id, pattern),
    )


def _household(conn, make_user):
    owner, member = make_user(), make_user()
    family_id = make_family(conn, owner["id"], members={member["id"]: "member"})
    shared = make_account(conn, owner["id"], name="Household", family_id=family_id)
    return owner, member, family_id, shared


def test_a_members_rule_and_teaching_never_place_a_personal_category_on_a_family_transaction(client, conn, make_user):
    _owner, member, _family_id, shared = _household(conn, make_user)
    secret = _personal_category(conn, member["id"])
    other_family = make_family(conn, member["id"], name="Other family")
    elsewhere = conn.execute(
        "INSERT INTO categories (name, family_id) VALUES ('Other family only', %s) RETURNING id", (other_family,)
    ).fetchone()["id"]
    _personal_rule(conn, member["id"], secret, "HOBBYSHOP")
    _personal_rule(conn, member["id"], elsewhere, "OTHERSHOP")
    personal = make_account(conn, member["id"], name="Mine")
    for days in range(3):  # what the member taught it on their own account
        make_transaction(
            conn, member["id"], personal, "-5.00", merchant="TAUGHTSHOP", category_id=secret,
            day=date.today() - timedelta(days=days + 1),
        )  # fmt: skip
    conn.execute("UPDATE transactions SET categorization_source = 'manual'")

    for merchant in ("HOBBYSHOP", "OTHERSHOP", "TAUGHTSHOP"):
        body = {"account_id": str(shared), "amount": "-20.00", "description": "Purchase", "merchant": merchant,
                "transaction_date": date.today().isoformat()}  # fmt: skip
        r = client.http.post("/transactions", headers=member["headers"], body=json.dumps(body))
        assert r.status_code == 201, r.body
        assert json.loads(r.body)["category_id"] not in (str(secret), str(elsewhere))

    # The same rules still serve the member's personal account.
    mine = suggest_category(conn, user_id=member["id"], family_id=None, description="x", merchant="HOBBYSHOP")
    assert mine.category_id == secret


def test_a_family_categorization_rule_or_file_hint_offers_that_familys_and_the_defaults(conn, make_user):
    _owner, member, family_id, _ = _household(conn, make_user)
    family_category = conn.execute(
        "INSERT INTO categories (name, family_id) VALUES ('Family groceries', %s) RETURNING id", (family_id,)
    ).fetchone()["id"]
    _personal_rule(conn, member["id"], family_category, "FAMSHOP")

    placed = suggest_category(conn, user_id=member["id"], family_id=family_id, description="x", merchant="FAMSHOP")
    keyword = suggest_category(
        conn, user_id=member["id"], family_id=family_id, description="STARBUCKS 12", merchant=None
    )

    assert placed.category_id == family_category
    assert keyword.category_id == default_category(conn, "Coffee Shops", "Food & Dining")


def test_names_of_categories_the_caller_may_not_see_never_leave_the_database(client, conn, make_user):
    owner, member, _family_id, shared = _household(conn, make_user)
    secret = _personal_category(conn, member["id"])
    # A row misplaced before the fix (migration 1001 clears those; this one is written after it).
    make_transaction(conn, member["id"], shared, "-42.00", category_id=secret, description="HOBBY SUPPLIES")

    for path in (
        "/analytics/spending?group_by=category",
        "/analytics/spending?group_by=top_category",
        "/dashboard",
        "/search/transactions?q=hobby",
    ):
        r = client.http.get(path, headers=owner["headers"])
        assert r.status_code == 200, (path, r.body)
        assert SECRET not in r.body.decode(), path

    # The member still reads their own category's name.
    r = client.http.get("/analytics/spending?group_by=category", headers=member["headers"])
    assert SECRET in r.body.decode()

    # The lookups the Elasticsearch paths use for labels and facet names (no cluster needed).
    from chalicelib.analytics import repo as analytics_repo
    from chalicelib.families.access import load_access
    from chalicelib.search.es_engine import _category_names

    coffee = default_category(conn, "Coffee Shops", "Food & Dining")
    ids = [str(secret), str(coffee)]
    for who, sees_secret in ((owner, False), (member, True)):
        access = load_access(conn, who["id"])
        for found in (analytics_repo.names(conn, access, "categories", ids), _category_names(access, ids)):
            assert (str(secret) in found) is sees_secret and found[str(coffee)] == "Coffee Shops"
    assert analytics_repo.names(conn, load_access(conn, owner["id"]), "accounts", [str(shared)]) == {
        str(shared): "Household"
    }


def test_migration_1001_uncategorizes_family_rows_with_a_foreign_category(conn, make_user):
    from pathlib import Path

    _owner, member, _family_id, shared = _household(conn, make_user)
    secret = _personal_category(conn, member["id"])
    coffee = default_category(conn, "Coffee Shops", "Food & Dining")
    bad = make_transaction(conn, member["id"], shared, "-1.00", category_id=secret)
    fine = make_transaction(conn, member["id"], shared, "-1.00", category_id=coffee)
    personal = make_transaction(conn, member["id"], make_account(conn, member["id"]), "-1.00", category_id=secret)

    sql_file = Path(__file__).resolve().parents[2] / "sql" / "1001_family_transactions_family_categories.sql"
    conn.execute(sql_file.read_text())

    rows = {r["id"]: r["category_id"] for r in conn.execute("SELECT id, category_id FROM transactions")}
    assert rows == {bad: None, fine: coffee, personal: secret}


def test_an_export_by_the_owner_leaves_a_category_they_may_not_see_blank(conn, make_user):
    from datetime import date

    from chalicelib.exports.report_repo import ExportScope, category_paths
    from chalicelib.families.access import load_access

    owner, member, _, shared = _household(conn, make_user)
    secret = _personal_category(conn, member["id"])
    coffee = default_category(conn, "Coffee Shops", "Food & Dining")
    make_transaction(conn, member["id"], shared, "-4.00", category_id=secret, day=date(2026, 11, 2))
    make_transaction(conn, member["id"], shared, "-3.00", category_id=coffee, day=date(2026, 11, 3))

    def paths_for(user):
        scope = ExportScope(
            access=load_access(conn, user["id"]), date_from=date(2026, 11, 1), date_to=date(2026, 11, 30)
        )
        return {k: v.path for k, v in category_paths(conn, scope).items()}

    assert paths_for(owner) == {coffee: "Food & Dining > Coffee Shops"}
    assert paths_for(member)[secret] == SECRET
