"""The spool's COPY text round-trips through PostgreSQL: every value a reader can
produce comes back out of the staging table exactly as it went in."""

from datetime import date
from decimal import Decimal

from chalicelib.categorization.keywords import keyword_slot, merchant_key
from chalicelib.imports import repo
from chalicelib.imports.staging import RowSpool
from chalicelib.imports.statement import StatementRow

ROWS = [
    StatementRow(line=2, transaction_date=date(2026, 1, 5), amount=Decimal("-4.50"), description="STARBUCKS 123"),
    StatementRow(
        line=3, transaction_date=date(2026, 1, 6), amount=Decimal("1200.00"), description="back\\slash\tand\ttabs",
        posted_date=date(2026, 1, 7), merchant="Multi\nline\r\nmerchant \\N", memo="\\.", external_id="ref\\1",
        category_hint="Groceries", status="pending",
    ),
    StatementRow(line=4, transaction_date=date(2026, 1, 8), amount=Decimal("-0.01"), description="Café Zürich ☕"),
]  # fmt: skip


def test_staged_rows_come_back_as_they_went_in(conn):
    with RowSpool() as spool:
        for row in ROWS:
            spool.add(row)
        spool.finish()
        with conn.transaction():
            repo.stage_rows(conn, spool)
            staged = conn.execute("SELECT * FROM import_rows ORDER BY seq").fetchall()
    assert [r["seq"] for r in staged] == [1, 2, 3]
    for row, got in zip(ROWS, staged, strict=True):
        assert (got["line"], got["transaction_date"], got["posted_date"], got["amount"]) == (
            row.line, row.transaction_date, row.posted_date, row.amount,
        )  # fmt: skip
        assert (got["description"], got["merchant"], got["memo"], got["external_id"], got["category_hint"]) == (
            row.description, row.merchant, row.memo, row.external_id, row.category_hint,
        )  # fmt: skip
        assert got["status"] == row.status
        assert got["keyword_slot"] == keyword_slot(row.description, row.merchant)
        assert got["merchant_key"] == merchant_key(row.merchant or row.description)
    assert staged[0]["keyword_slot"] is not None and staged[1]["posted_date"] == date(2026, 1, 7)
