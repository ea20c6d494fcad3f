"""Analytics periods: the default range and the month ends net worth is sampled at."""

from datetime import date, timedelta

from chalicelib.core.dates import shift_month
from chalicelib.errors import ValidationFailed


def resolve_range(from_: date | None, to: date | None, *, today: date) -> tuple[date, date]:
    """API.md: default the last 12 months (this month and the 11 before, whole months from
    the first); with only `from`, `to` is today."""
    if to is None:
        to = today
    if from_ is None:
        from_ = shift_month(to, -11)
    if from_ > to:
        raise ValidationFailed.field("from", "must not be after to")
    return from_, to


def month_ends(from_: date, to: date) -> list[date]:
    """The last day of every month from from_'s month up to, and then, `to` itself."""
    points = []
    month = shift_month(from_, 0)
    while True:
        end = shift_month(month, 1) - timedelta(days=1)
        if end >= to:
            points.append(to)
            return points
        points.append(end)
        month = shift_month(month, 1)
