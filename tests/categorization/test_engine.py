"""Automatic categorization: own rules, then what the user taught it, then keywords."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from chalicelib.categorization.engine import suggest_category
from tests.factories import default_category, make_account, make_family, make_transaction


def _rule(conn, user_id, category_id, pattern, **fields):
    fields = {"match_type": "contains", "field": "any", "priority": 100, "family_id": None, **fields}
    conn.execute(
        """INSERT INTO categorization_rules (user_id, family_id, category_id, field, match_type, pattern, priority)
           VALUES (%s, %s, %s, %s, %s, %s, %s)""",
        (user_id, fields["family_id"], category_id, fields["field"], fields["match_type"], pattern, fields["priority"]),
    )


def _own_category(conn, user_id, name):
    return conn.execute(
        "INSERT INTO categories (name, user_id) VALUES (%s, %s) RETURNING id", (name, user_id)
    ).fetchone()["id"]


def _suggest(conn, user_id, description, merchant=None, family_id=None):
    return suggest_category(conn, user_id=user_id, family_id=family_id, description=description, merchant=merchant)


def test_built_in_keywords_place_common_merchants(conn, owner):
    coffee = default_category(conn, "Coffee Shops", "Food & Dining")

    suggestion = _suggest(conn, owner["id"], "STARBUCKS STORE 1234 SEATTLE WA")

    assert (suggestion.category_id, suggestion.reason, suggestion.source) == (coffee, "keyword", "ml")
    assert Decimal(0) <= suggestion.confidence <= Decimal(1)
    assert _suggest(conn, owner["id"], "XQZ 77 LLC") is None


def test_a_users_rule_beats_keywords_and_the_higher_priority_wins(conn, owner):
    treats = _own_category(conn, owner["id"], "Treats")
    work = _own_category(conn, owner["id"], "Work")
    _rule(conn, owner["id"], treats, "starbucks")
    _rule(conn, owner["id"], work, "^starbucks store [0-9]+", match_type="regex", priority=200)

    assert _suggest(conn, owner["id"], "STARBUCKS STORE 1234").category_id == work
    assert _suggest(conn, owner["id"], "Starbucks Reserve").category_id == treats
    assert _suggest(conn, owner["id"], "Starbucks Reserve").confidence == Decimal("0.95")


@pytest.mark.parametrize(
    ("match_type", "field", "pattern", "description", "merchant", "hit"),
    [
        ("equals", "description", "rent", "RENT", None, True),
        ("equals", "description", "rent", "RENT MARCH", None, False),
        ("starts_with", "any", "amzn", "AMZN Mktp", None, True),
        ("starts_with", "any", "amzn", "Paid AMZN", None, False),
        ("contains", "merchant", "acme", "Payroll", "ACME Corp", True),
        ("contains", "merchant", "acme", "ACME payroll", None, False),
    ],
)
def test_match_types_and_fields(conn, owner, match_type, field, pattern, description, merchant, hit):
    mine = _own_category(conn, owner["id"], "Mine")
    _rule(conn, owner["id"], mine, pattern, match_type=match_type, field=field)

    suggestion = _suggest(conn, owner["id"], description, merchant)

    assert (suggestion is not None and suggestion.category_id == mine) is hit


def test_what_the_user_taught_it_counts_and_corrections_weigh_most(conn, owner):
    account = make_account(conn, owner["id"])
    diner, treats = _own_category(conn, owner["id"], "Diner"), _own_category(conn, owner["id"], "Treats")
    yesterday = date.today() - timedelta(days=1)
    for _ in range(2):
        make_transaction(
            conn, owner["id"], account, "-9.00", day=yesterday, description="JOES DINER 12", category_id=diner
        )
    corrected = make_transaction(conn, owner["id"], account, "-9.00", day=yesterday, description="Joe's Diner #7")
    conn.execute(
        "UPDATE transactions SET category_id = %s, categorization_source = 'user_correction' WHERE id = %s",
        (treats, corrected),
    )

    suggestion = _suggest(conn, owner["id"], "POS 5512 JOES DINER 99")

    assert (suggestion.category_id, suggestion.reason) == (treats, "learned")
    assert Decimal("0.5") <= suggestion.confidence <= Decimal("0.9")


def test_family_rules_apply_to_family_accounts_and_strangers_rules_never(conn, make_user, owner):
    other = make_user()
    family = make_family(conn, owner["id"])
    groceries = default_category(conn, "Groceries", "Food & Dining")
    _rule(conn, owner["id"], groceries, "corner shop", family_id=family)
    _rule(conn, other["id"], _own_category(conn, other["id"], "Theirs"), "corner shop")

    assert _suggest(conn, owner["id"], "CORNER SHOP 1", family_id=family).category_id == groceries
    assert _suggest(conn, owner["id"], "CORNER SHOP 1") is None
    assert _suggest(conn, other["id"], "CORNER SHOP 1").reason == "rule"


def test_imports_are_categorized_and_a_correction_teaches_the_next_import(conn, owner, checking, run_import):
    dining = default_category(conn, "Restaurants", "Food & Dining")
    first = "Date,Description,Amount\n2024-01-05,STARBUCKS STORE 1234,-5.00\n2024-01-06,MYSTERY DINER,-20.00\n"
    run_import(owner["id"], checking, "a.csv", first.encode())
    rows = {r["description"]: r for r in conn.execute("SELECT * FROM transactions").fetchall()}
    assert rows["STARBUCKS STORE 1234"]["categorization_source"] == "ml"
    assert rows["STARBUCKS STORE 1234"]["categorization_confidence"] == Decimal("0.60")
    assert rows["MYSTERY DINER"]["category_id"] is None
    conn.execute(
        "UPDATE transactions SET category_id = %s, categorization_source = 'user_correction', "
        "transaction_date = CURRENT_DATE - 1 WHERE id = %s",
        (dining, rows["MYSTERY DINER"]["id"]),
    )

    run_import(owner["id"], checking, "b.csv", b"Date,Description,Amount\n2024-02-06,Mystery Diner #2,-18.00\n")

    taught = conn.execute("SELECT * FROM transactions WHERE description = 'Mystery Diner #2'").fetchone()
    assert (taught["category_id"], taught["categorization_source"]) == (dining, "ml")


LABELS = [
    "POS 4411 STARBUCKS #123 SEATTLE", "Starbucks 998 Seattle WA", "Joe's Diner #7", "JOES DINER 12", "PAYPAL *NETFLIX",
    "a b c", "", None, "Café Zürich Überweisung", "the the card visa", "X", "SQ *BLUE BOTTLE COFFEE", "ecommerce store",
    "AMZN Mktp US*2K", "Visa purchase - SHELL OIL 57444", "  multiple   spaces  here ", "Müller’s Bäckerei`s Ecke",
    "ÉPICERIE DU COIN 12", "7-ELEVEN 3321", "Łódź Kawiarnia", "straße_und-weg",
]  # fmt: skip


def test_the_python_merchant_key_equals_the_sql_one(conn):
    from chalicelib.categorization.keywords import merchant_key

    rows = conn.execute(
        "SELECT label, categorization_merchant_key(label) AS key FROM unnest(%s::text[]) AS u(label)", (LABELS,)
    ).fetchall()

    assert [merchant_key(r["label"]) for r in rows] == [r["key"] for r in rows]
