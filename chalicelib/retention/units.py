"""What every scheduled upkeep run is made of: small units of work, each one database
transaction under the job's advisory lock, each re-checking the state it acts on.

A run killed between two units leaves every finished unit committed and the next one
untouched, so the next run simply carries on. Two runs at once queue on the lock unit by
unit; the second finds the first one's work done and skips it (no double move, no error).
A transaction-scoped lock (not a session lock) is released by COMMIT/ROLLBACK and by the
connection dying, and keeps working behind a transaction-pooling PgBouncer."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import psycopg

from chalicelib.core.dates import month_start
from chalicelib.infra import db
from chalicelib.infra.settings import get_settings


class LockNotAvailable(Exception):
    """A unit's DDL waited longer than retention_lock_timeout_ms; it is left for the next run."""


@contextmanager
def upkeep_unit(job: str, *, ddl: bool = False) -> Iterator[psycopg.Connection]:
    """One unit of work of `job`: a transaction holding the job's advisory lock.

    With ddl=True the unit's own lock waits are bounded: ALTER TABLE queued behind a long
    reader would otherwise make every later reader of `transactions` queue behind it."""
    settings = get_settings()
    try:
        with db.transaction() as conn:
            conn.execute(
                "SELECT set_config('statement_timeout', %s, true)", (str(settings.upkeep_statement_timeout_ms),)
            )
            # Taken before lock_timeout is set: waiting for the other run's unit is expected.
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"fiscaflow:{job}",))
            if ddl:
                conn.execute("SELECT set_config('lock_timeout', %s, true)", (str(settings.retention_lock_timeout_ms),))
            yield conn
    except psycopg.errors.LockNotAvailable as exc:
        raise LockNotAvailable(str(exc)) from exc


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def archive_before(today: date) -> date:
    """First day that stays in `transactions`: rows dated before it are archived.

    Archiving is partition-wise, so a month moves once all of it is older than the window
    (transactions_archive_after_years): a row is archived at most one month after it
    turns five years old, never before. Both the `partitions` and `retention` jobs use
    this one boundary, so one never creates what the other is about to move."""
    return month_start(years_before(today, get_settings().transactions_archive_after_years))
