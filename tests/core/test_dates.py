"""Month arithmetic and the user's timezone, read once from PostgreSQL."""

from datetime import date
from uuid import UUID

from chalicelib.core.dates import add_months, on_day, shift_month, user_timezone


def test_months_shift_to_a_first_day_and_add_with_one_clamp():
    assert shift_month(date(2024, 1, 31), 1) == date(2024, 2, 1)
    assert shift_month(date(2024, 1, 15), -13) == date(2022, 12, 1)
    assert on_day(date(2023, 2, 1), 31) == date(2023, 2, 28)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)


def test_the_users_timezone_and_utc_for_nobody(conn, make_user):
    user = make_user(timezone="Asia/Tokyo")

    assert user_timezone(conn, user["id"]) == "Asia/Tokyo"
    assert user_timezone(conn, UUID(int=0)) == "UTC"
