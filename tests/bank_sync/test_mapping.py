"""Plaid's terms in ours (pure functions, no I/O)."""

from decimal import Decimal

import pytest

from chalicelib.bank_sync import mapping


@pytest.mark.parametrize(
    ("plaid_type", "subtype", "ours"),
    [
        ("depository", "checking", "checking"), ("depository", "savings", "savings"),
        ("depository", "money market", "savings"), ("depository", "cd", "savings"),
        ("credit", "credit card", "credit_card"),
        ("loan", "mortgage", "loan"), ("investment", "401k", "investment"), ("brokerage", None, "investment"),
        ("other", None, "other"), ("depository", "ebt", "other"),
    ],
)  # fmt: skip
def test_account_types(plaid_type, subtype, ours):
    assert mapping.account_type(plaid_type, subtype) == ours


@pytest.mark.parametrize(
    ("plaid", "ours", "rounded"),
    [("12.34", "-12.34", False), ("-500", "500.00", False), ("10.125", "-10.12", True), ("10.135", "-10.14", True),
     ("0.005", "0.00", True)],
)  # fmt: skip
def test_plaid_positive_is_money_out_and_cents_round_half_even(plaid, ours, rounded):
    assert mapping.our_amount(Decimal(plaid)) == (Decimal(ours), rounded)


def test_liabilities_are_negative_balances():
    assert mapping.our_balance("credit", Decimal("410.10")) == Decimal("-410.10")
    assert mapping.our_balance("loan", Decimal("9000")) == Decimal("-9000.00")
    assert mapping.our_balance("depository", Decimal("1200.5")) == Decimal("1200.50")


def test_categories_prefer_the_detailed_one_and_fall_back_to_the_primary():
    assert mapping.category_path("FOOD_AND_DRINK", "FOOD_AND_DRINK_COFFEE") == ("Food & Dining", "Coffee Shops")
    assert mapping.category_path("FOOD_AND_DRINK", "FOOD_AND_DRINK_VENDING_MACHINES") == ("Food & Dining", None)
    assert mapping.category_path("SOMETHING_NEW", None) is None
    assert mapping.confidence("VERY_HIGH") == Decimal("0.95") and mapping.confidence(None) == Decimal("0.30")


def test_every_mapped_category_exists_in_the_default_tree():
    import re
    from pathlib import Path

    sql = (Path(__file__).resolve().parents[2] / "sql" / "0006_default_categories.sql").read_text()
    names = set(re.findall(r"'([^']+)'", sql))
    for top, sub in [*mapping.DETAILED.values(), *mapping.PRIMARY.values()]:
        assert top in names and (sub is None or sub in names), (top, sub)


def test_link_language_follows_the_locale():
    assert [mapping.language(x) for x in ("fr-FR", "de_DE", "en-US", "zz-ZZ", None)] == ["fr", "de", "en", "en", "en"]
