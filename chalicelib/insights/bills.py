"""Where bill reminders get decided: recurring payments detected from history
(GET /recurring) and the `bill-reminders` schedule (daily), which reminds each person
who can read the paying account when a bill's next due date is 0-3 days ahead in their
timezone; once per bill and due date (dedupe key bill:{md5(key)}:{due date})."""

import hashlib
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import psycopg

from chalicelib.core.dates import local_today, user_timezone
from chalicelib.infra import db
from chalicelib.infra.logging import logger
from chalicelib.insights import repo
from chalicelib.insights.models import RecurringList, RecurringOut
from chalicelib.insights.recurring import Occurrence, Recurring, detect
from chalicelib.notifications.service import create_notification

REMIND_DAYS_AHEAD = 3
# Thirteen months of history: a monthly series of three is found even a year on.
HISTORY_DAYS = 400
# A bill more than this overdue is taken as stopped and no longer listed.
STALE_AFTER_DAYS = 7


@dataclass(frozen=True)
class BillRemindersReport:
    series_found: int
    due_soon: int
    reminders_created: int
    dry_run: bool
    elapsed_ms: int


@dataclass(frozen=True)
class Bill:
    viewer: UUID
    timezone: str | None
    key: str
    label: str
    currency: str | None
    recurring: Recurring


def _bills(conn: psycopg.Connection, *, today: date, viewer: UUID | None = None) -> list[Bill]:
    bills = []
    for group in repo.candidate_groups(conn, since=today - timedelta(days=HISTORY_DAYS), viewer=viewer):
        found = detect([Occurrence(d, a, acc, cat) for d, a, acc, cat in repo.occurrences_of(group)])
        if found is not None:
            bills.append(
                Bill(group["viewer"], group["timezone"], group["key"], group["label"], group["currency"], found)
            )
    return bills


def list_recurring(*, user_id: UUID) -> RecurringList:
    """The recurring payments found in what the caller can read, next due first."""
    with db.transaction() as conn:
        today = local_today(user_timezone(conn, user_id))
        bills = _bills(conn, today=today, viewer=user_id)
    live = [b for b in bills if b.recurring.next_due >= today - timedelta(days=STALE_AFTER_DAYS)]
    live.sort(key=lambda b: (b.recurring.next_due, b.label))
    return RecurringList(items=[_out(b) for b in live])


def _out(bill: Bill) -> RecurringOut:
    r = bill.recurring
    return RecurringOut(
        merchant=bill.label,
        amount=-r.amount,
        currency=bill.currency,
        account_id=r.last.account_id,
        category_id=r.last.category_id,
        usual_day=r.usual_day,
        occurrences=len(r.occurrences),
        last_date=r.last.day,
        next_due_date=r.next_due,
    )


def _remind(conn: psycopg.Connection, bill: Bill, *, days_ahead: int) -> bool:
    r = bill.recurring
    when = "today" if days_ahead == 0 else ("tomorrow" if days_ahead == 1 else f"in {days_ahead} days")
    data: dict[str, Any] = _out(bill).model_dump(mode="json")
    return (
        create_notification(
            conn,
            user_id=bill.viewer,
            type="bill_reminder",
            title=f"{bill.label} is due {when}"[:255],
            message=f"{bill.label}: about {r.amount} {bill.currency or ''} is due on {r.next_due} "
            f"(paid monthly around day {r.usual_day}).",
            data=data,
            dedupe_key=f"bill:{hashlib.md5(bill.key.encode()).hexdigest()}:{r.next_due}",  # noqa: S324 - a key, not a secret
        )
        is not None
    )


def run_bill_reminders(*, dry_run: bool = False, today: date | None = None) -> BillRemindersReport:
    """Remind everyone of the recurring payments due in the next three days."""
    started = time.monotonic()
    created = due_soon = 0
    with db.transaction() as conn:
        conn.execute("SET LOCAL statement_timeout = '5min'")
        # Widest "today" on the planet, so the history covers every timezone.
        bills = _bills(conn, today=(today or date.today()) + timedelta(days=1))
        for bill in bills:
            local = today or local_today(bill.timezone)
            days_ahead = (bill.recurring.next_due - local).days
            if 0 <= days_ahead <= REMIND_DAYS_AHEAD:
                due_soon += 1
                if not dry_run and _remind(conn, bill, days_ahead=days_ahead):
                    created += 1
    report = BillRemindersReport(
        series_found=len(bills),
        due_soon=due_soon,
        reminders_created=created,
        dry_run=dry_run,
        elapsed_ms=int((time.monotonic() - started) * 1000),
    )
    logger.info("bill-reminders done", extra={"report": report.__dict__})
    return report
