"""Dates and amounts as banks write them (pure functions, no I/O)."""

from datetime import date
from decimal import Decimal

import pytest

from chalicelib.imports.csv_layout import role_of
from chalicelib.imports.values import DateEvidence, parse_amount, parse_date


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("-42.10", "-42.10"), ("1,234.56", "1234.56"), ("-1.234,56", "-1234.56"), ("1 234,56", "1234.56"),
        ("1\u00a0234,56", "1234.56"), ("1'234.50", "1234.50"), ("(45.00)", "-45.00"), ("45,00-", "-45.00"),
        ("€ 12,30", "12.30"), ("$-3.50", "-3.50"), ("-$3.50", "-3.50"), ("12.30 DR", "-12.30"), ("12.30 CR", "12.30"),
        ("EUR 1.234,5", "1234.5"), ("+7", "7"), ("1,234", "1234"), ("1.234", "1234"), ("0.5", "0.5"),
    ],
)  # fmt: skip
def test_amounts(text, value):
    assert parse_amount(text).value == Decimal(value)


@pytest.mark.parametrize("text", ["", "abc", "1.2.3,4,5", "0,001", "12.3456", "1,2345", "--5", "1e5"])
def test_not_amounts(text):
    with pytest.raises(ValueError):
        parse_amount(text)


def test_money_never_goes_through_float():
    assert parse_amount("0.10").value + parse_amount("0.20").value == Decimal("0.30")


def _order(*values):
    evidence = DateEvidence()
    for v in values:
        evidence.add(v)
    return evidence.order()


def test_one_rule_for_the_whole_file():
    assert _order("01/02/2024", "03/04/2024") == "mdy"  # every row fits both: "/" is month-first
    assert _order("01.02.2024", "03.04.2024") == "dmy"  # "." is day-first
    assert _order("01/02/2024", "25/04/2024") == "dmy"  # a later row rules month-first out
    assert _order("01/02/2024", "04/25/2024") == "mdy"
    assert _order("2024-01-02", "2024-12-31") == "ymd"
    assert _order("15 Jan 2024", "Jan 16, 2024") == "ymd"


@pytest.mark.parametrize(
    ("text", "order", "day"),
    [
        ("15.01.24", "dmy", date(2024, 1, 15)), ("20240115", "ymd", date(2024, 1, 15)),
        ("2024-01-15T10:22:33Z", "ymd", date(2024, 1, 15)), ("01/15/2024 10:22 PM", "mdy", date(2024, 1, 15)),
        ("15-Jan-2024", "dmy", date(2024, 1, 15)), ("3 Okt 2024", "dmy", date(2024, 10, 3)),
    ],
)  # fmt: skip
def test_dates(text, order, day):
    assert parse_date(text, order) == day


def test_a_row_that_does_not_fit_the_files_rule_is_an_error():
    with pytest.raises(ValueError, match="does not fit"):
        parse_date("25/04/2024", "mdy")
    with pytest.raises(ValueError, match="not a date"):
        parse_date("2024-02-30", "ymd")


@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("Buchungstag", "date"), ("Valutadatum", "posted_date"), ("Betrag (€)", "amount"), ("Amount (EUR)", "amount"),
        ("Beguenstigter/Zahlungspflichtiger", "payee"), ("Libellé", "description"), ("Débit", "debit"),
        ("Money In", "credit"), ("Af Bij", "direction"), ("Running Bal.", "balance"), ("Card No.", None),
    ],
)  # fmt: skip
def test_header_names(header, role):
    assert role_of(header) == role
