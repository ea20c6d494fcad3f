"""Fixtures for the export tests: a small ledger with awkward text."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest

from tests.factories import default_category, make_account, make_transaction


@dataclass
class Ledger:
    user: dict
    checking: UUID
    card: UUID
    groceries: UUID
    restaurants: UUID
    salary: UUID
    food: UUID
    transfers: UUID


@pytest.fixture
def ledger(conn, make_user) -> Ledger:
    """One user, two accounts, transactions across January-March 2024 including
    formula-looking text, a refund, a cancelled row and an uncategorized outflow."""
    user = make_user(first_name="Ada", last_name="Lovelace")
    checking = make_account(conn, user["id"], name="Main Checking")
    card = make_account(conn, user["id"], name="=Card", type="credit_card")
    cats = {
        "groceries": default_category(conn, "Groceries", "Food & Dining"),
        "restaurants": default_category(conn, "Restaurants", "Food & Dining"),
        "salary": default_category(conn, "Salary", "Income"),
        "food": default_category(conn, "Food & Dining"),
        "transfers": default_category(conn, "Transfers"),
    }
    rows = [
        (checking, "3000.00", date(2024, 1, 1), "Salary January", "ACME Corp", cats["salary"], "posted", None, None),
        (checking, "-42.10", date(2024, 1, 5), "Weekly shop", "FreshMart", cats["groceries"], "posted", ["home"], None),
        (
            card,
            "-18.50",
            date(2024, 1, 12),
            '=HYPERLINK("http://x")',
            "+Bistro",
            cats["restaurants"],
            "posted",
            None,
            "@note",
        ),
        (
            checking,
            "12.00",
            date(2024, 1, 20),
            "Refund, damaged goods",
            "FreshMart",
            cats["groceries"],
            "posted",
            None,
            None,
        ),
        (checking, "-99.99", date(2024, 2, 2), "-minus first", "\tTabbed", None, "posted", ["-x", "y"], "\rcr"),
        (checking, "-500.00", date(2024, 2, 3), "Cancelled order", "Shop", cats["groceries"], "cancelled", None, None),
        (checking, "3000.00", date(2024, 2, 1), "Salary February", "ACME Corp", cats["salary"], "posted", None, None),
        (
            card,
            "-61.25",
            date(2024, 2, 14),
            'Dinner "for two"\nsecond line',
            "Chez Ünïcode €",
            cats["restaurants"],
            "posted",
            None,
            None,
        ),
        (checking, "-250.00", date(2024, 3, 1), "To savings", None, cats["transfers"], "posted", None, None),
        (checking, "-7.35", date(2024, 3, 9), "Bakery", "FreshMart", cats["food"], "pending", None, None),
        (
            checking,
            "-1000.00",
            date(2023, 12, 31),
            "Before the period",
            "FreshMart",
            cats["groceries"],
            "posted",
            None,
            None,
        ),
    ]
    for account, amount, day, desc, merchant, category, status, tags, notes in rows:
        make_transaction(
            conn, user["id"], account, Decimal(amount), day=day, description=desc, merchant=merchant,
            category_id=category, status=status, tags=tags, notes=notes,
        )  # fmt: skip
    conn.execute(
        "UPDATE transactions SET posted_date = transaction_date + 1, external_id = '=ext-' || left(id::text, 8) "
        "WHERE description = 'Weekly shop'"
    )
    return Ledger(user=user, checking=checking, card=card, **cats)
