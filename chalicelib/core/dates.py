"""Calendar arithmetic and the user's "today": pure functions, plus the one read of a
user's timezone.

Month arithmetic clamps to the target month's length (Jan 31 + 1 month → Feb 28/29), the
same rule as SQL's budget_period(). Timestamps are stored in UTC; "today" is the date
where the user lives (seed decision 4), and an unknown zone name falls back to UTC rather
than failing a request."""

import calendar
from datetime import UTC, date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg


def utc_now() -> datetime:
    return datetime.now(UTC)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_today(timezone_name: str | None, *, now: datetime | None = None) -> date:
    """Today's date in this timezone."""
    return (now or utc_now()).astimezone(zone(timezone_name)).date()


def user_timezone(conn: psycopg.Connection, user_id: UUID) -> str:
    """The user's timezone name (UTC when none is set): read once per use case, in its
    transaction, and handed to whatever needs the user's today."""
    row = conn.execute("SELECT timezone FROM users WHERE id = %s", (user_id,)).fetchone()
    return (row and row["timezone"]) or "UTC"


def user_timezones(conn: psycopg.Connection, user_ids: list[UUID]) -> dict[UUID, str]:
    """user_timezone of each of these users that exists, in one statement (the live path
    builds every recipient's figures of a write at once)."""
    rows = conn.execute("SELECT id, timezone FROM users WHERE id = ANY(%s)", (list(user_ids),)).fetchall()
    return {r["id"]: r["timezone"] or "UTC" for r in rows}


def month_start(day: date) -> date:
    return day.replace(day=1)


def on_day(month: date, day_of_month: int) -> date:
    """`month`'s `day_of_month`, clamped to the month's length."""
    return month.replace(day=min(day_of_month, calendar.monthrange(month.year, month.month)[1]))


def shift_month(day: date, months: int) -> date:
    """The first day of the month `months` away from day's month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the target month's length."""
    return on_day(shift_month(day, months), day.day)
