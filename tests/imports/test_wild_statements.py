"""One regression test per class of failure found by importing other banks' real files
(issue 14): each file here is the smallest one that showed it. Every test goes through
the S3 handler and checks the money booked, not just the status."""

import json
from decimal import Decimal

import pytest

from tests.factories import make_account
from tests.imports.conftest import balance_of, transactions_of


def _amounts(conn, account) -> list[Decimal]:
    return sorted(r["amount"] for r in transactions_of(conn, account))


def _layout(record) -> dict:
    return record["metadata"]["layout"]


@pytest.fixture
def card(conn, owner):
    return make_account(conn, owner["id"], type="credit_card", name="Visa", currency="GBP")


@pytest.fixture
def pounds(conn, owner):
    return make_account(conn, owner["id"], currency="GBP", opening_balance="0.00")


def test_balance_column_is_never_the_amount_even_beside_debit_and_credit_columns(conn, owner, pounds, run_import):
    # Lloyds' own export: a trailing delimiter on the header only.
    data = (
        b"Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,"
        b"Debit Amount,Credit Amount,Balance,\n"
        b"15/01/2024,DEB,'99-88-74,15151522,ACME STORE,8.99,,2040.59\n"
        b"12/01/2024,FPI,'99-88-74,15151522,SALARY,,2000.00,2049.58\n"
        b"11/01/2024,DD,'99-88-74,15151522,COUNCIL TAX,120.00,,49.58\n"
    )
    record = run_import(owner["id"], pounds, "lloyds.csv", data)

    assert record["status"] == "completed", record["error_message"]
    assert _amounts(conn, pounds) == [Decimal("-120.00"), Decimal("-8.99"), Decimal("2000.00")]
    layout = _layout(record)
    assert layout["columns"]["amount"] == {"column": "Debit Amount/Credit Amount", "because": "header"}
    assert layout["checked_against_balance"] is True


def test_check_number_card_suffix_and_id_columns_are_never_amounts(conn, owner, checking, run_import):
    data = (
        b"Date,Description,Amount,Check Number,Card,Id\n"
        b"2024-01-05,CHECK,-150.00,1042,4417,1001\n"
        b"2024-01-06,GROCER,-23.10,,4417,1002\n"
        b"2024-01-07,SALARY,2000.00,,4417,1003\n"
    )
    record = run_import(owner["id"], checking, "ids.csv", data)

    assert record["status"] == "completed", record["error_message"]
    assert sum(_amounts(conn, checking)) == Decimal("1826.90")


def test_header_less_integer_monotonic_and_constant_columns_are_not_the_money(conn, owner, checking, run_import):
    data = (
        b"1001,2024-01-05,4417,COFFEE,-3.50\n1002,2024-01-06,4417,SALARY,1500.00\n1003,2024-01-07,4417,BOOKS,-12.00\n"
    )

    record = run_import(owner["id"], checking, "plain.csv", data)

    assert record["status"] == "completed", record["error_message"]
    assert _amounts(conn, checking) == [Decimal("-12.00"), Decimal("-3.50"), Decimal("1500.00")]


def test_an_indicator_column_signs_unsigned_amounts(conn, owner, checking, run_import):
    # ING Netherlands, header-less: Af is money out, Bij money in.
    data = b'20121115,SHOP,NL01,T1,IC,Af,"136,13",Incasso\n20121112,EMPLOYER,NL01,T2,GT,Bij,"375,00",Salaris\n'

    record = run_import(owner["id"], checking, "ing.csv", data)

    assert record["status"] == "completed", record["error_message"]
    assert _amounts(conn, checking) == [Decimal("-136.13"), Decimal("375.00")]
    assert _layout(record)["sign_convention"] == "indicator_column"


def test_a_card_statement_that_marks_only_its_payments_books_the_rest_as_spending(conn, owner, card, run_import):
    data = (
        "Date Processed,Description,Amount,\n"
        "Pending,NOWTV.COM,£8.99,\n"
        "12-Dec-2019,DELIVEROO,£18.89,\n"
        '02-Dec-2019,PAYMENT RECEIVED - THANK YOU,"+ £1,100.00",CR\n'
    ).encode()
    record = run_import(owner["id"], card, "jl.csv", data)

    assert record["status"] == "completed", record["error_message"]
    rows = transactions_of(conn, card)
    assert sorted(r["amount"] for r in rows) == [Decimal("-18.89"), Decimal("-8.99"), Decimal("1100.00")]
    assert {r["status"] for r in rows if r["amount"] == Decimal("-8.99")} == {"pending"}
    assert _layout(record)["sign_convention"] == "credits_marked"


def test_a_card_export_with_spending_positive_is_read_by_its_payment_rows(conn, owner, card, run_import):
    data = (
        b"Date,Description,Amount\n2024-03-01,TESCO,25.00\n2024-03-02,PAYMENT - THANK YOU,-100.00\n"
        b"2024-03-03,SHELL,40.00\n"
    )

    record = run_import(owner["id"], card, "card.csv", data)

    assert record["status"] == "completed", record["error_message"]
    assert _amounts(conn, card) == [Decimal("-40.00"), Decimal("-25.00"), Decimal("100.00")]
    assert balance_of(conn, card) == Decimal("35.00")


def test_a_header_less_file_keeps_its_first_row(conn, owner, checking, run_import):
    data = b"2021-03-01T10:00:00Z,COFFEE,($3.50)\n2021-03-02T11:00:00Z,REFUND,$.23\n"

    record = run_import(owner["id"], checking, "nohead.csv", data)

    assert record["status"] == "completed", record["error_message"]
    assert _amounts(conn, checking) == [Decimal("-3.50"), Decimal("0.23")]


def test_a_row_without_description_takes_the_payee_memo_or_a_placeholder(conn, owner, checking, run_import):
    data = b"Date,Payee,Memo,Amount\n2024-01-05,ACME,,-1.00\n2024-01-06,,Transfer in,2.00\n2024-01-07,,,-3.00\n"

    record = run_import(owner["id"], checking, "nodesc.csv", data)

    assert record["status"] == "completed", record["error_message"]
    assert sorted(r["description"] for r in transactions_of(conn, checking)) == [
        "(no description)",
        "ACME",
        "Transfer in",
    ]


def test_ofx_transaction_with_neither_name_nor_memo_is_imported(conn, owner, checking, run_import):
    data = (
        b"<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD<BANKACCTFROM><ACCTID>1</BANKACCTFROM>"
        b"<BANKTRANLIST><STMTTRN><TRNTYPE>CHECK<DTPOSTED>20091224120000[0:GMT]<TRNAMT>-85.00<FITID>A1"
        b"<CHECKNUM>1042</STMTTRN></BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
    )
    record = run_import(owner["id"], checking, "one-line.ofx", data)

    assert record["status"] == "completed", record["error_message"]
    (row,) = transactions_of(conn, checking)
    assert (str(row["transaction_date"]), row["amount"], row["description"]) == (
        "2009-12-24",
        Decimal("-85.00"),
        "Check 1042",
    )


@pytest.mark.parametrize("charset", [b"8859-1", b"ISO-8859-1", b"1252", b"CP1252", b"NONE"])
def test_ofx_with_blank_lines_before_its_header_and_any_charset_alias(conn, owner, checking, run_import, charset):
    data = (
        b"\r\n\r\nOFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nENCODING:USASCII\r\nCHARSET:" + charset + b"\r\n\r\n"
        b"<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD<BANKTRANLIST>\r\n<STMTTRN><TRNTYPE>DEBIT"
        b"<DTPOSTED>20240105<TRNAMT>-12.50<FITID>X1<NAME>Caf\xe9\r\n</STMTTRN></BANKTRANLIST></STMTRS>"
        b"</STMTTRNRS></BANKMSGSRSV1></OFX>\r\n"
    )
    record = run_import(owner["id"], checking, "cs.ofx", data)

    assert record["status"] == "completed", record["error_message"]
    assert [r["description"] for r in transactions_of(conn, checking)] == ["Café"]


def test_ofx_with_a_second_empty_statement_imports_the_one_with_rows(conn, owner, checking, run_import):
    statement = (
        "<STMTTRNRS><STMTRS><CURDEF>USD<BANKACCTFROM><ACCTID>{id}<ACCTTYPE>CHECKING</BANKACCTFROM>"
        "<BANKTRANLIST>{rows}</BANKTRANLIST></STMTRS></STMTTRNRS>"
    )
    row = "<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240105<TRNAMT>-9.99<FITID>F1<NAME>SPOTIFY</STMTTRN>"
    data = "<OFX><BANKMSGSRSV1>" + statement.format(id="111", rows=row) + statement.format(id="222", rows="")
    record = run_import(owner["id"], checking, "two.ofx", (data + "</BANKMSGSRSV1></OFX>").encode())

    assert record["status"] == "completed", record["error_message"]
    assert _amounts(conn, checking) == [Decimal("-9.99")]


def test_qif_comment_lines_and_an_investment_section_are_passed_over(conn, owner, checking, run_import):
    data = (
        b"### exported by a tool\n!Type:Bank\nD2/14'2020\nT-67.50\nPT-Mobile\n^\n"
        b"!Type:Invst\nD2/15'2020\nNBuy\nYACME\nI10\nQ1\nT10.00\n^\n"
    )
    record = run_import(owner["id"], checking, "mixed.qif", data)

    assert record["status"] == "completed", record["error_message"]
    assert _amounts(conn, checking) == [Decimal("-67.50")]
    assert any("investment" in s["reason"] for s in record["metadata"]["skipped"])


def test_continuation_lines_join_the_row_above_and_summary_rows_are_skipped(conn, owner, checking, run_import):
    data = (
        b"Date;Description;Amount\n"
        b";Opening balance;1000,00\n"
        b"05.01.2024;Miete;-500,00\n"
        b";Januar Wohnung;\n"
        b"06.01.2024;Lohn;2000,00\n"
        b";Closing balance;2500,00\n"
    )
    record = run_import(owner["id"], checking, "cont.csv", data)

    assert record["status"] == "completed", record["error_message"]
    rows = {r["amount"]: r["description"] for r in transactions_of(conn, checking)}
    assert rows == {Decimal("-500.00"): "Miete Januar Wohnung", Decimal("2000.00"): "Lohn"}
    assert [s["line"] for s in record["metadata"]["skipped"]] == [2, 6]


def test_amounts_that_contradict_the_running_balance_ask_for_a_mapping_naming_the_lines(
    conn, client, owner, checking, run_import
):
    data = b"Date,Description,Amount,Balance\n2024-01-01,A,-10.00,90.00\n2024-01-02,B,-20.00,75.00\n"

    record = run_import(owner["id"], checking, "bad-balance.csv", data)

    assert (record["status"], record["error_code"]) == ("failed", "mapping_required")
    assert [e["line"] for e in record["errors"]] == [3]
    assert transactions_of(conn, checking) == []
    response = client.http.post(
        f"/imports/{record['id']}/confirm",
        headers=owner["headers"] | {"Content-Type": "application/json"},
        body=json.dumps({"mapping": {"amount": "Amount"}}),
    )
    assert response.status_code == 202
    assert _amounts(conn, checking) == [Decimal("-20.00"), Decimal("-10.00")]


def test_two_unlabelled_money_columns_are_refused_with_both_named(conn, owner, checking, run_import):
    data = b"2024-01-01,COFFEE,3.50,\n2024-01-02,SALARY,,1500.00\n2024-01-03,BOOKS,12.00,\n"

    record = run_import(owner["id"], checking, "pair.csv", data)

    assert (record["status"], record["error_code"]) == ("failed", "mapping_required")
    assert {c["column"] for c in record["metadata"]["candidates"]} == {"column 3/column 4", "column 4/column 3"}
    assert transactions_of(conn, checking) == []
