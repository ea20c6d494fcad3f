"""Budget periods: pure functions, the same rule as SQL's budget_period().

A monthly, quarterly or yearly budget repeats from its start_date: the k-th period
starts k*step months after the anchor (clamped to the month's length, and always
counted from the anchor, so a budget started on Jan 31 runs Feb 29 (leap) .. Mar 30,
then Mar 31 .. Apr 29) and ends the day before the next one, or at end_date. A custom
budget has exactly one period, start_date .. end_date."""

from dataclasses import dataclass
from datetime import date, timedelta

from chalicelib.core.dates import add_months

STEP_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}


@dataclass(frozen=True)
class Period:
    start: date
    end: date


def period_containing(*, period_type: str, start_date: date, end_date: date | None, on: date) -> Period | None:
    """The budget period that contains `on`, or None when `on` is outside the budget."""
    if on < start_date or (end_date is not None and on > end_date):
        return None
    if period_type == "custom":
        assert end_date is not None  # a custom budget always has one (DB check and service)
        return Period(start_date, end_date)
    step = STEP_MONTHS[period_type]
    k = ((on.year - start_date.year) * 12 + on.month - start_date.month) // step
    if add_months(start_date, k * step) > on:
        k -= 1
    end = add_months(start_date, (k + 1) * step) - timedelta(days=1)
    if end_date is not None:
        end = min(end, end_date)
    return Period(add_months(start_date, k * step), end)
