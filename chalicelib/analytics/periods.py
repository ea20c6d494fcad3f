"""Dates in the caller's timezone: what "today" is, the default range, period starts."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.errors import ValidationFailed


def utc_now() -> datetime:
    return datetime.now(UTC)


def today_in(timezone: str | None) -> date:
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return utc_now().astimezone(zone).date()


def shift_month(day: date, months: int) -> date:
    """The first day of the month `months` away from day's month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


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
