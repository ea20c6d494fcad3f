"""Database errors as domain errors, in one place: the pool's cursors turn a violated
constraint that means something to a caller into its domain error as the statement
fails, so no service catches psycopg's errors (a service that wants another wording for
the same refusal catches the domain error). A constraint not named here stays what it is:
a bug, answered 500."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors as pg_errors

from chalicelib.errors import AmountOutOfRange, BalanceBelowZero, DomainError

# constraint name -> the domain error it means
CONSTRAINT_ERRORS: dict[str, Callable[[], DomainError]] = {
    # sql/0002 (and the balance trigger): savings and investment accounts, unless they
    # allow it, never go below zero — whether a transaction or the account's own change did it.
    "accounts_balance_non_negative": BalanceBelowZero,
}


def domain_error(exc: BaseException) -> DomainError | None:
    """The domain error a database error means, or None where it means none."""
    if isinstance(exc, pg_errors.IntegrityError):
        make = CONSTRAINT_ERRORS.get(getattr(exc.diag, "constraint_name", None) or "")
        return make() if make else None
    if isinstance(exc, pg_errors.NumericValueOutOfRange):
        # Every amount the API takes fits NUMERIC(15,2); only a sum the database keeps (the
        # balance triggers add an opening balance or a transaction to it) can overflow.
        return AmountOutOfRange()
    return None


@contextmanager
def mapped_errors() -> Iterator[None]:
    try:
        yield
    except (pg_errors.IntegrityError, pg_errors.NumericValueOutOfRange) as exc:
        mapped = domain_error(exc)
        if mapped is None:
            raise
        raise mapped from exc


class MappedCursor(psycopg.Cursor):
    """The pool's cursor class: every statement, and a COPY's end, fails with the domain error."""

    def execute(self, *args, **kwargs):
        with mapped_errors():
            return super().execute(*args, **kwargs)

    def executemany(self, *args, **kwargs):
        with mapped_errors():
            return super().executemany(*args, **kwargs)

    @contextmanager
    def copy(self, *args, **kwargs):
        with mapped_errors(), super().copy(*args, **kwargs) as copy:
            yield copy
