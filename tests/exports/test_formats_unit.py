"""Pure pieces: formula neutralization, the chunk reader, budget period maths, charts."""

from datetime import date
from decimal import Decimal

import pytest
from reportlab.graphics.shapes import Rect, String

from chalicelib.exports import charts
from chalicelib.exports.csv_export import ChunkReader, csv_chunks, neutralize
from chalicelib.exports.totals import BudgetLine, budget_periods


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+33 6 12", "'+33 6 12"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        (" =x", " =x"),
        ("", ""),
        (None, ""),
    ],
)
def test_neutralize(text, expected):
    assert neutralize(text) == expected


def test_chunk_reader_returns_exactly_what_is_asked_while_data_remains():
    reader = ChunkReader(iter([b"ab", b"", b"cdef", b"g"]))

    assert [reader.read(3), reader.read(3), reader.read(3), reader.read(3)] == [b"abc", b"def", b"g", b""]
    assert reader.bytes_read == 7
    assert ChunkReader(iter([b"xy", b"z"])).read() == b"xyz"


def test_csv_chunks_stay_small_and_join_to_the_whole_file():
    row = (date(2024, 1, 1), None, "A", None, "x" * 1000, None, Decimal("-1.00"), "USD", "posted", None, None, None)
    chunks = list(csv_chunks([row] * 2000))

    assert len(chunks) > 4 and max(len(c) for c in chunks) < 300 * 1024
    assert b"".join(chunks).count(b"\r\n") == 2001


@pytest.mark.parametrize(
    ("period_type", "start", "end", "frm", "to", "expected"),
    [
        ("monthly", date(2024, 1, 15), None, date(2024, 2, 1), date(2024, 3, 1),
         [(date(2024, 1, 15), date(2024, 2, 14)), (date(2024, 2, 15), date(2024, 3, 14))]),
        ("monthly", date(2024, 1, 31), None, date(2024, 2, 1), date(2024, 2, 29),
         [(date(2024, 1, 31), date(2024, 2, 28)), (date(2024, 2, 29), date(2024, 3, 30))]),
        ("quarterly", date(2023, 1, 1), date(2023, 5, 10), date(2023, 1, 1), date(2023, 12, 31),
         [(date(2023, 1, 1), date(2023, 3, 31)), (date(2023, 4, 1), date(2023, 5, 10))]),
        ("yearly", date(2020, 7, 1), None, date(2024, 1, 1), date(2024, 3, 31),
         [(date(2023, 7, 1), date(2024, 6, 30))]),
        ("custom", date(2024, 1, 10), date(2024, 1, 20), date(2024, 1, 1), date(2024, 1, 31),
         [(date(2024, 1, 10), date(2024, 1, 20))]),
        ("custom", date(2023, 1, 10), date(2023, 1, 20), date(2024, 1, 1), date(2024, 1, 31), []),
        ("monthly", date(2025, 1, 1), None, date(2024, 1, 1), date(2024, 12, 31), []),
    ],
)  # fmt: skip
def test_budget_periods(period_type, start, end, frm, to, expected):
    assert (
        budget_periods(period_type=period_type, start_date=start, end_date=end, date_from=frm, date_to=to) == expected
    )


@pytest.mark.parametrize(
    ("spent", "state"), [("79.99", "ok"), ("80.00", "warning"), ("100.00", "warning"), ("100.01", "exceeded")]
)
def test_budget_state_follows_the_contract(spent, state):
    line = BudgetLine(
        category_id=None,
        category="Food",
        period_start=date(2024, 1, 1),
        period_end=date(2024, 1, 31),
        allocated=Decimal("100.00"),
        spent=Decimal(spent),
        alert_threshold=Decimal("0.80"),
    )
    assert line.state == state


def test_charts_scale_bars_to_the_largest_value():
    drawing = charts.horizontal_bars([("Rent", Decimal("1000")), ("Food", Decimal("250"))], width=400)
    bars = [s for s in drawing.contents if isinstance(s, Rect)]
    assert bars[0].width == pytest.approx(4 * bars[1].width)
    months = charts.month_bars([("2024-01", Decimal("3000"), Decimal("48.6"))], width=400)
    labels = [s.text for s in months.contents if isinstance(s, String)]
    assert "3.0k" in labels and "4.0k" not in labels and "2024-01" in labels
