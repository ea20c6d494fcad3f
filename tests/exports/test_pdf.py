"""The PDF budget report, rendered with poppler (pdftoppm) and read back with pdftotext."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.exports.helpers import download, run_export

pytestmark = pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("pdftotext")),
    reason="poppler-utils missing: scripts/bootstrap.sh installs it",
)


@pytest.fixture
def budgets(conn, ledger):
    """A monthly food budget (warning in January, exceeded in February, ok in March) and
    a yearly one that started before the period."""
    food = conn.execute(
        """INSERT INTO budgets (user_id, name, period_type, start_date, total_amount)
           VALUES (%s, 'Food budget', 'monthly', '2024-01-01', 150) RETURNING id""",
        (ledger.user["id"],),
    ).fetchone()["id"]
    conn.execute(
        """INSERT INTO budget_categories (budget_id, category_id, allocated_amount, alert_threshold)
           VALUES (%s, %s, 60, 0.80), (%s, %s, 40, 0.80)""",
        (food, ledger.food, food, ledger.restaurants),
    )
    yearly = conn.execute(
        """INSERT INTO budgets (user_id, name, period_type, start_date, total_amount)
           VALUES (%s, 'Transfers & savings', 'yearly', '2023-07-01', 5000) RETURNING id""",
        (ledger.user["id"],),
    ).fetchone()["id"]
    conn.execute(
        "INSERT INTO budget_categories (budget_id, category_id, allocated_amount) VALUES (%s, %s, 1000)",
        (yearly, ledger.transfers),
    )
    conn.execute(
        """INSERT INTO budgets (user_id, name, period_type, start_date, end_date, total_amount)
           VALUES (%s, 'Old custom budget', 'custom', '2023-01-01', '2023-06-30', 100)""",
        (ledger.user["id"],),
    )


def _render(pdf: bytes, tmp_path: Path) -> tuple[list[Path], str]:
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(source), str(tmp_path / "page")], check=True, timeout=60)
    text = subprocess.run(
        ["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True, timeout=60, text=True
    ).stdout
    return sorted(tmp_path.glob("page-*.png")), text


def test_budget_report_renders_with_totals_budgets_charts_and_merchants(client, ledger, budgets, tmp_path):
    export = run_export(client, ledger.user, format="pdf")
    pdf = download(export)
    pages, text = _render(pdf, tmp_path)

    assert export["file_name"] == "budget_report_2024-01-01_2024-03-31.pdf"
    assert pdf.startswith(b"%PDF-") and export["size_bytes"] == len(pdf)
    assert export["rows"] == 9  # the period's transactions, the cancelled one left out
    assert 1 <= len(pages) <= 4 and all(p.stat().st_size > 5000 for p in pages)
    assert f"Page 1 of {len(pages)}" in text
    assert "Budget report" in text and "1 January 2024 – 31 March 2024" in text
    assert "Ada Lovelace" in text
    flat = re.sub(r"\s+", " ", text)
    assert "6,000.00 467.19 5,532.81 9" in flat  # income, spending, net, transactions
    # Charts and their tables: top-level categories and months.
    assert "Food & Dining" in text and "Uncategorized" in text and "2024-02" in text
    assert "Food budget" in text and "Transfers & savings" in text
    assert "Old custom budget" not in text
    # A budget category counts its sub-categories: Food & Dining is groceries (net of the
    # refund), restaurants and the bakery; the cancelled order is ignored.
    assert re.search(r"1 Jan – 31 Jan 2024 Food & Dining 60\.00 48\.60 11\.40 81 % warning", flat)
    assert re.search(r"1 Jan – 31 Jan 2024 Food & Dining > Restaurants 40\.00 18\.50 21\.50 46 % ok", flat)
    assert re.search(r"1 Feb – 29 Feb 2024 Food & Dining 60\.00 61\.25 -1\.25 102 % exceeded", flat)
    assert re.search(r"1 Mar – 31 Mar 2024 Food & Dining 60\.00 7\.35 52\.65 12 % ok", flat)
    # A yearly budget that started before the report: its period runs July to June.
    assert "1 Jul 2023 – 30 Jun" in flat and "Transfers 1,000.00 250.00 750.00 25 % ok" in flat
    assert "Top merchants" in text and "FreshMart" in text and "Chez Ünïcode €" in text


def test_a_refund_lowers_budget_spending_but_never_below_zero(client, ledger, budgets, conn, tmp_path):
    conn.execute(
        """INSERT INTO transactions (user_id, account_id, category_id, amount, description, transaction_date, status)
           VALUES (%s, %s, %s, 100.00, 'Big refund', '2024-03-20', 'posted')""",
        (ledger.user["id"], ledger.checking, ledger.groceries),
    )

    _, text = _render(download(run_export(client, ledger.user, format="pdf")), tmp_path)

    assert re.search(r"1 Mar – 31 Mar 2024 Food & Dining 60\.00 0\.00 60\.00 0 ?% ok", re.sub(r"\s+", " ", text))


def test_an_empty_period_still_makes_a_readable_report(client, ledger, tmp_path):
    export = run_export(client, ledger.user, format="pdf", **{"from": "2020-01-01", "to": "2020-12-31"})
    pages, text = _render(download(export), tmp_path)

    assert len(pages) == 1 and export["rows"] == 0
    assert "No spending in this period." in text and "No budget was active in this period." in text
