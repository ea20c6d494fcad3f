"""The one cursor codec: what goes in comes out, and every bad cursor is the same 400."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from chalicelib.core import paging
from chalicelib.errors import ValidationFailed


def test_a_created_key_round_trips_and_the_page_splits_at_the_limit():
    rows = [{"created_at": datetime(2026, 1, d, tzinfo=UTC), "id": uuid4()} for d in (3, 2, 1)]

    page, cursor = paging.page(rows, 2)

    assert page == rows[:2]
    assert paging.decode_created(cursor) == (rows[1]["created_at"], rows[1]["id"])
    assert paging.page(rows[:2], 2) == (rows[:2], None)
    assert paging.decode_created(None) is None


SOME_ID = str(UUID(int=7))


@pytest.mark.parametrize(
    "cursor",
    [
        "!!",
        "garbage",
        "not-a-cursor",
        paging.encode(["x"]),
        paging.encode({"a": 1}),  # type: ignore[arg-type]
        paging.encode(["2026-01-01T00:00:00", SOME_ID]),  # naive: no list hands that out
        paging.encode(["2026-01-01T00:00:00+00:00", "not-a-uuid"]),
        paging.encode([1, 2]),
        "gA",  # not UTF-8 once decoded
    ],
)
def test_every_bad_cursor_is_one_validation_error(cursor):
    with pytest.raises(ValidationFailed) as raised:
        paging.decode_created(cursor)

    assert raised.value.details == [{"field": "cursor", "message": paging.INVALID_MESSAGE}]
    assert raised.value.message == paging.INVALID_MESSAGE
