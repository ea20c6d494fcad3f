"""Recurring payments found in history: pure functions, no I/O.

A series is the occurrences of one normalized merchant (or description; normalized in
SQL, see insights/repo.py) whose amounts
stay within 10 % of the latest one and which come about one calendar month apart: each
within GAP_TOLERANCE days of one month before the next one, and every one within
DAY_TOLERANCE days of the series' usual day of the month (so a 36-day rhythm, which
drifts through the month, is not monthly). At least MIN_OCCURRENCES make a recurring
payment. Its next due date is one calendar month after the last occurrence, on its
usual day of the month (the nearest such date), clamped to that month's length (API.md
"bill_reminder")."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from chalicelib.core.dates import add_months, on_day, shift_month

MIN_OCCURRENCES = 3
AMOUNT_TOLERANCE = Decimal("0.10")
DAY_TOLERANCE = 4
# Two neighbours may each be DAY_TOLERANCE off the usual day, in opposite directions,
# and February is up to three days shorter than the month before it.
GAP_TOLERANCE = 9
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
        near = [o for o in pool if abs((o.day - expected).days) <= GAP_TOLERANCE and o.day < chain[-1].day]
        if not near:
            return list(reversed(chain))
        previous = min(near, key=lambda o: (abs((o.day - expected).days), -o.day.toordinal()))
        chain.append(previous)
        pool = [o for o in pool if o.day < previous.day]


def usual_day(days: list[date]) -> int:
    """The day of the month the occurrences sit closest to: least worst distance, then
    least total distance, counted across month boundaries (a bill around the 1st paid on
    the 29th is 3 days early, not 28 days late) and against clamped month ends (Feb 28 is
    on the 31st)."""

    def cost(day_of_month: int) -> tuple[int, int, int]:
        offs = [days_off(d, day_of_month) for d in days]
        return max(offs), sum(offs), day_of_month

    return min(range(1, 32), key=cost)


def next_due(last: date, day_of_month: int) -> date:
    """One calendar month after `last`, moved to the nearest date on the usual day: a bill
    due on the 1st that was paid early on Mar 29 is next due May 1, not Apr 1."""
    target = add_months(last, 1)
    candidates = [on_day(shift_month(target, k), day_of_month) for k in (-1, 0, 1)]
    return min(candidates, key=lambda d: (abs((d - target).days), d))


def days_off(day: date, day_of_month: int) -> int:
    """How far `day` is from the nearest date that falls on `day_of_month` (clamped)."""
    return min(abs((day - on_day(shift_month(day, k), day_of_month)).days) for k in (-1, 0, 1))


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
        if len(series) < MIN_OCCURRENCES:
            continue
        day = usual_day([o.day for o in series])
        if max(days_off(o.day, day) for o in series) <= DAY_TOLERANCE:
            return Recurring(
                occurrences=tuple(series),
                usual_day=day,
                amount=median_amount([o.amount for o in series]),
                next_due=next_due(series[-1].day, day),
            )
    return None
