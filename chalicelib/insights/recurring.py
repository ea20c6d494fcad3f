"""Recurring payments found in history: pure functions, no I/O.

A series is the occurrences of one normalized merchant (or description; normalized in
SQL, see insights/repo.py) whose amounts
stay within 10 % of the latest one and which come about one calendar month apart
(within DAY_TOLERANCE days of the date one month on). At least MIN_OCCURRENCES make a
recurring payment. Its next due date is one calendar month after the last occurrence,
on its usual day of the month, clamped to that month's length (API.md
"bill_reminder")."""

import calendar
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from chalicelib.budgets.periods import add_months

MIN_OCCURRENCES = 3
AMOUNT_TOLERANCE = Decimal("0.10")
DAY_TOLERANCE = 4
# How many of the latest occurrences may start a series (a one-off purchase at the
# same merchant after the last bill must not hide the bill).
SERIES_STARTS = 3


@dataclass(frozen=True)
class Occurrence:
    day: date
    amount: Decimal  # positive: what left the account
    account_id: object = None
    category_id: object = None


@dataclass(frozen=True)
class Recurring:
    occurrences: tuple[Occurrence, ...]  # oldest first
    usual_day: int
    amount: Decimal
    next_due: date

    @property
    def last(self) -> Occurrence:
        return self.occurrences[-1]


def _close(a: Decimal, reference: Decimal) -> bool:
    return abs(a - reference) <= AMOUNT_TOLERANCE * reference


def _series_from(latest: Occurrence, earlier: list[Occurrence]) -> list[Occurrence]:
    chain = [latest]
    pool = [o for o in earlier if _close(o.amount, latest.amount)]
    while True:
        expected = add_months(chain[-1].day, -1)
        near = [o for o in pool if abs((o.day - expected).days) <= DAY_TOLERANCE and o.day < chain[-1].day]
        if not near:
            return list(reversed(chain))
        previous = min(near, key=lambda o: (abs((o.day - expected).days), -o.day.toordinal()))
        chain.append(previous)
        pool = [o for o in pool if o.day < previous.day]


def usual_day(days: list[date]) -> int:
    """The most frequent day of the month; without a repeat, the median day."""
    counts = Counter(d.day for d in days)
    top = max(counts.values())
    if top >= 2:
        return max(day for day, n in counts.items() if n == top)
    ordered = sorted(d.day for d in days)
    return ordered[(len(ordered) - 1) // 2]


def next_due(last: date, day_of_month: int) -> date:
    following = add_months(last.replace(day=1), 1)
    return following.replace(day=min(day_of_month, calendar.monthrange(following.year, following.month)[1]))


def median_amount(amounts: list[Decimal]) -> Decimal:
    ordered = sorted(amounts)
    middle = len(ordered) // 2
    value = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return value.quantize(Decimal("0.01"))


def detect(occurrences: list[Occurrence]) -> Recurring | None:
    """The monthly series in these occurrences of one merchant, if there is one."""
    ordered = sorted(occurrences, key=lambda o: o.day)
    for start in range(1, min(SERIES_STARTS, len(ordered)) + 1):
        latest = ordered[-start]
        series = _series_from(latest, ordered[: len(ordered) - start])
        if len(series) >= MIN_OCCURRENCES:
            day = usual_day([o.day for o in series])
            return Recurring(
                occurrences=tuple(series),
                usual_day=day,
                amount=median_amount([o.amount for o in series]),
                next_due=next_due(series[-1].day, day),
            )
    return None
