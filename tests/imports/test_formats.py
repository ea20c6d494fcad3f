"""Every supported format and bank layout, through the real S3 handler: the right rows,
the right signs and dates, exact balances."""

from datetime import date
from decimal import Decimal

import pytest

from tests.factories import make_account
from tests.imports.conftest import balance_of, transactions_of

# file, account currency, rows, sum of amounts, (date, amount, description) of one row
CASES = [
    ("us_chase_checking.csv", "USD", 4, "1838.50", (date(2024, 1, 15), "2000.00", "ACME CORP PAYROLL PPD ID: 1234567")),
    ("us_chase_credit.csv", "USD", 4, "424.38", (date(2024, 2, 3), "-84.12", "WHOLEFDS MKT 10234")),
    ("us_bofa_preamble.csv", "USD", 4, "1837.63", (date(2024, 3, 5), "3250.00", "DIRECT DEPOSIT ACME PAYROLL")),
    ("us_wells_fargo_noheader.csv", "USD", 3, "1427.91", (date(2024, 4, 15), "-9.99", "SPOTIFY USA")),
    ("us_capital_one.csv", "USD", 3, "-858.07", (date(2024, 5, 13), "-1012.40", "CHIPOTLE 1234")),
    ("us_tab_separated.txt", "USD", 3, "-114.80", (date(2024, 6, 3), "-120.55", "ELECTRIC CO")),
    ("us_pipe_separated.csv", "USD", 2, "-333.10", (date(2024, 6, 4), "-23.10", "Lyft")),
    ("uk_barclays.csv", "USD", 3, "2063.40", (date(2024, 1, 15), "-32.10", "TESCO STORES 3011")),
    ("de_sparkasse.csv", "EUR", 3, "1795.63", (date(2024, 1, 2), "-1250.00", "Miete Januar Wohnung Müller")),
    ("de_ing.csv", "EUR", 3, "2345.67", (date(2024, 2, 1), "2496.10", "Lohn Februar")),
    ("fr_debit_credit.csv", "EUR", 3, "1414.10", (date(2024, 3, 12), "2450.00", "VIR SEPA SALAIRE MARS")),
    ("nl_ing.csv", "EUR", 2, "2726.55", (date(2024, 1, 2), "-23.45", "Albert Heijn 1234")),
    ("ofx_sgml_checking_cp1252.ofx", "USD", 3, "1727.50", (date(2024, 1, 5), "-12.50", "Café Olé Crêperie")),
    ("qfx_credit_card_cp1252.qfx", "USD", 3, "238.01", (date(2024, 2, 2), "-42.00", "Pâtisserie Française")),
    ("ofx_xml_savings.ofx", "USD", 2, "503.21", (date(2024, 3, 31), "3.21", "INTEREST PAID")),
    ("qif_bank.qif", "USD", 3, "1257.44", (date(2024, 1, 15), "-1234.56", "Whole Foods Market")),
]


@pytest.mark.parametrize(("name", "currency", "count", "total", "sample"), CASES, ids=[c[0] for c in CASES])
def test_each_layout_imports_exactly(conn, owner, run_import, name, currency, count, total, sample):
    account = make_account(conn, owner["id"], currency=currency, opening_balance="100.00", type="checking")

    record = run_import(owner["id"], account, name)

    assert record["status"] == "completed", record["error_message"]
    assert (record["transactions_added"], record["duplicates_skipped"], record["errors"]) == (count, 0, [])
    rows = transactions_of(conn, account)
    assert len(rows) == count
    assert sum(r["amount"] for r in rows) == Decimal(total)
    assert balance_of(conn, account) == Decimal("100.00") + Decimal(total)
    day, amount, description = sample
    assert any(
        (r["transaction_date"], r["amount"], r["description"]) == (day, Decimal(amount), description) for r in rows
    )
    assert {r["import_id"] for r in rows} == {record["id"]}
    assert {r["status"] for r in rows} == {"posted"}
    assert {r["currency"] for r in rows} == {currency}


def test_ofx_keeps_fitid_posted_date_and_the_banks_calendar_day(conn, owner, checking, run_import):
    run_import(owner["id"], checking, "ofx_sgml_checking_cp1252.ofx")

    rows = {r["external_id"]: r for r in transactions_of(conn, checking)}
    assert set(rows) == {"202401050001", "202401150002", "202401200003"}
    assert rows["202401050001"]["notes"] == "Déjeuner"
    assert rows["202401050001"]["merchant"] == "Café Olé Crêperie"
    # 20240120000000[+10:AEST] is the 20th where the bank is, the 19th in UTC.
    assert rows["202401200003"]["transaction_date"] == date(2024, 1, 20)


def test_qfx_uses_the_user_date_and_keeps_the_posted_date(conn, owner, run_import):
    card = make_account(conn, owner["id"], type="credit_card", name="Visa")
    run_import(owner["id"], card, "qfx_credit_card_cp1252.qfx")

    row = next(r for r in transactions_of(conn, card) if r["external_id"] == "CC20240203A")
    assert (row["transaction_date"], row["posted_date"]) == (date(2024, 2, 2), date(2024, 2, 3))
    assert balance_of(conn, card) == Decimal("238.01")


def test_day_first_is_decided_from_all_rows_not_the_first(conn, owner, checking, run_import):
    data = b"Date,Description,Amount\n01/02/2024,Early,-1.00\n03/04/2024,Middle,-2.00\n25/04/2024,Late,-3.00\n"

    record = run_import(owner["id"], checking, "dates.csv", data)

    assert record["status"] == "completed", record["error_message"]
    days = {r["description"]: r["transaction_date"] for r in transactions_of(conn, checking)}
    assert days == {"Early": date(2024, 2, 1), "Middle": date(2024, 4, 3), "Late": date(2024, 4, 25)}


def test_ambiguous_slash_dates_are_month_first_and_dot_dates_day_first(conn, owner, checking, run_import):
    run_import(owner["id"], checking, "slash.csv", b"Date,Description,Amount\n01/02/2024,Slash,-1.00\n")
    run_import(owner["id"], checking, "dot.csv", b"Date;Description;Amount\n01.02.2024;Dot;-1,00\n")

    days = {r["description"]: r["transaction_date"] for r in transactions_of(conn, checking)}
    assert days == {"Slash": date(2024, 1, 2), "Dot": date(2024, 2, 1)}


def test_a_saved_mapping_reads_an_unusual_layout(conn, owner, checking, run_import):
    from chalicelib.imports import repo

    # Spending shown as positive numbers: only the saved mapping can say so.
    odd = b"Buchungsref;Wann;Was;Wieviel\nA-1;2024-06-01;Bakery;4,20\nA-2;2024-06-02;Books;12,00\n"
    repo.save_mapping(
        conn,
        account_id=checking,
        mapping={"date": "Wann", "description": "Was", "amount": 4, "invert_sign": True},
        user_id=owner["id"],
    )

    record = run_import(owner["id"], checking, "odd.csv", odd)

    assert record["status"] == "completed", record["error_message"]
    amounts = {r["description"]: r["amount"] for r in transactions_of(conn, checking)}
    assert amounts == {"Bakery": Decimal("-4.20"), "Books": Decimal("-12.00")}


def test_a_file_without_a_date_column_fails_and_asks_for_a_mapping(conn, owner, checking, run_import):
    record = run_import(owner["id"], checking, "odd.csv", b"Period;What;Amount\nQ1;Rent;-100.00\nQ2;Rent;-100.00\n")

    assert record["status"] == "failed"
    assert "date" in record["error_message"] and "mapping" in record["error_message"]
    assert transactions_of(conn, checking) == []
