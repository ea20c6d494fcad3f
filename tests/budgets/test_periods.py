from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.budgets.periods import Period, period_containing
from chalicelib.core.dates import add_months, local_today


def monthly(start, on, end=None):
    return period_containing(period_type="monthly", start_date=start, end_date=end, on=on)


def test_add_months_clamps_to_the_month_length_and_leap_years():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2024, 1, 31), 2) == date(2024, 3, 31)
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)
    assert add_months(date(2024, 3, 15), -3) == date(2023, 12, 15)


def test_a_monthly_budget_from_the_first_runs_calendar_months():
    assert monthly(date(2024, 1, 1), date(2024, 2, 29)) == Period(date(2024, 2, 1), date(2024, 2, 29))
    assert monthly(date(2024, 1, 1), date(2024, 3, 1)) == Period(date(2024, 3, 1), date(2024, 3, 31))
    assert monthly(date(2024, 1, 1), date(2025, 12, 31)) == Period(date(2025, 12, 1), date(2025, 12, 31))


def test_a_monthly_budget_anchored_on_the_31st_follows_its_anchor_not_the_previous_period():
    start = date(2023, 1, 31)
    assert monthly(start, date(2023, 2, 27)) == Period(date(2023, 1, 31), date(2023, 2, 27))
    assert monthly(start, date(2023, 2, 28)) == Period(date(2023, 2, 28), date(2023, 3, 30))
    assert monthly(start, date(2023, 3, 31)) == Period(date(2023, 3, 31), date(2023, 4, 29))
    assert monthly(date(2024, 1, 31), date(2024, 2, 29)) == Period(date(2024, 2, 29), date(2024, 3, 30))


def test_quarterly_yearly_and_custom_periods():
    q = period_containing(period_type="quarterly", start_date=date(2024, 2, 15), end_date=None, on=date(2024, 5, 20))
    assert q == Period(date(2024, 5, 15), date(2024, 8, 14))
    y = period_containing(period_type="yearly", start_date=date(2024, 2, 29), end_date=None, on=date(2025, 3, 1))
    assert y == Period(date(2025, 2, 28), date(2026, 2, 27))
    c = period_containing(
        period_type="custom", start_date=date(2024, 1, 10), end_date=date(2024, 1, 20), on=date(2024, 1, 20)
    )
    assert c == Period(date(2024, 1, 10), date(2024, 1, 20))


def test_outside_the_budget_there_is_no_period_and_end_date_clips_the_last_one():
    assert monthly(date(2024, 1, 1), date(2023, 12, 31)) is None
    assert monthly(date(2024, 1, 1), date(2024, 3, 16), end=date(2024, 3, 15)) is None
    assert monthly(date(2024, 1, 1), date(2024, 3, 2), end=date(2024, 3, 15)) == Period(
        date(2024, 3, 1), date(2024, 3, 15)
    )


def test_local_today_is_the_owners_date_around_midnight():
    instant = datetime(2024, 3, 1, 4, 30, tzinfo=UTC)  # still Feb 29 in New York
    assert local_today("America/New_York", now=instant) == date(2024, 2, 29)
    assert local_today("Asia/Tokyo", now=instant) == date(2024, 3, 1)
    assert local_today("Not/AZone", now=instant) == date(2024, 3, 1)


@pytest.mark.parametrize("period_type", ["monthly", "quarterly", "yearly"])
def test_sql_budget_period_agrees_with_python_over_years_of_days(conn, period_type):
    starts = [date(2023, 1, 31), date(2024, 2, 29), date(2024, 5, 30), date(2024, 1, 1), date(2023, 8, 15)]
    days = [date(2023, 1, 1) + timedelta(days=i) for i in range(0, 1200, 3)]
    rows = conn.execute(
        """SELECT s.s AS start, d.d AS day, p.period_start, p.period_end
             FROM unnest(%s::date[]) s(s) CROSS JOIN unnest(%s::date[]) d(d)
             LEFT JOIN LATERAL budget_period(%s, s.s, NULL, d.d) p ON TRUE""",
        (starts, days, period_type),
    ).fetchall()
    for r in rows:
        expected = period_containing(period_type=period_type, start_date=r["start"], end_date=None, on=r["day"])
        got = Period(r["period_start"], r["period_end"]) if r["period_start"] else None
        assert got == expected, (r["start"], r["day"])
