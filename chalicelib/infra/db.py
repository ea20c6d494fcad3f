"""PostgreSQL access: one lazily opened pool per process, one transaction per use case.

`transaction()` is re-entrant within a context: a service called from inside an open
unit of work (the Idempotency-Key wrapper, an import that also raises notifications)
joins it, as a savepoint, instead of committing on its own, so the effect and its
bookkeeping commit together or not at all.
"""

import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from chalicelib.errors import ServiceUnavailable
from chalicelib.infra.db_errors import MappedCursor
from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings

_pool: ConnectionPool | None = None
_pool_lock = threading.Lock()
# After a failed checkout, requests are refused at once for this long (then one tries again).
DOWN_BACKOFF_SECONDS = 1.0
_down_until = 0.0


class _UnitOfWork:
    __slots__ = ("after_commit", "batches", "conn")

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn
        self.after_commit: list[Callable[[], None]] = []
        # name -> (flush, items): items gathered by collect_after_commit, flushed once.
        self.batches: dict[str, tuple[Callable[[list[Any]], None], list[Any]]] = {}


_current: contextvars.ContextVar[_UnitOfWork | None] = contextvars.ContextVar("fiscaflow_uow", default=None)


def _configure(conn: psycopg.Connection) -> None:
    conn.execute("SET TIME ZONE 'UTC'")
    conn.execute(f"SET statement_timeout = {int(get_settings().db_statement_timeout_ms)}")
    conn.commit()


def conninfo(url: str | None = None) -> str:
    """`url` (default: DATABASE_URL) with the TLS settings applied, where configured."""
    settings = get_settings()
    base = url or settings.database_url
    extra = {
        "sslmode": settings.db_sslmode,
        "ssl_min_protocol_version": settings.db_ssl_min_protocol_version,
    }
    if "connect_timeout" not in psycopg.conninfo.conninfo_to_dict(base):
        # A server that does not answer (not just refuses) fails the attempt, not the request's patience.
        extra["connect_timeout"] = str(settings.db_connect_timeout_seconds)
    return psycopg.conninfo.make_conninfo(base, **{k: v for k, v in extra.items() if v})


def connect(url: str | None = None, **kwargs: Any) -> psycopg.Connection:
    """A connection outside the pool (backups, restore, indices, migrations, tests), made like
    the pool's: no server-side prepared statements, since PgBouncer in transaction mode hands
    each transaction to any server connection and a statement prepared on one is unknown, or
    already taken, on the next (DuplicatePreparedStatement); TLS as configured."""
    return psycopg.connect(conninfo(url), prepare_threshold=None, **kwargs)


def pool() -> ConnectionPool:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                settings = get_settings()
                # min_size=0: a Lambda container that never touches the database opens nothing.
                _pool = ConnectionPool(
                    conninfo(settings.database_url),
                    min_size=0,
                    max_size=settings.db_pool_max_size,
                    # No server-side prepared statements: after five runs of one statement
                    # PostgreSQL may switch to a generic plan, and on the monthly-partitioned
                    # transactions table that plan is much slower (analytics over 12 months:
                    # 72 ms custom, 217 ms generic; BENCHMARKS.md). Every run is planned with
                    # its parameters instead; the statements here are few and cheap to parse.
                    kwargs={
                        "row_factory": dict_row,
                        "autocommit": False,
                        "prepare_threshold": None,
                        # Constraint violations leave a statement as domain errors (infra/db_errors.py).
                        "cursor_factory": MappedCursor,
                    },
                    configure=_configure,
                    timeout=settings.db_pool_timeout_seconds,
                    open=True,
                )
    return _pool


def close_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.close()
            _pool = None


def in_transaction() -> bool:
    """Whether a unit of work is open in this context (a `transaction()` would join it)."""
    return _current.get() is not None


@contextmanager
def transaction() -> Iterator[psycopg.Connection]:
    """Open (or join) the unit of work; commit on success, roll back on any exception."""
    joined = _current.get()
    if joined is not None:
        # A savepoint: a joined block that fails undoes its own writes and nothing else,
        # exactly as it would have on its own.
        # Callbacks registered inside it are forgotten with it: a rolled-back change must
        # not invalidate, and above all not be pushed to anyone, once the outer block commits.
        registered = len(joined.after_commit)
        try:
            with joined.conn.transaction():
                yield joined.conn
        except BaseException:
            del joined.after_commit[registered:]
            raise
        return
    conn = _checkout()
    uow = _UnitOfWork(conn)
    token = _current.set(uow)
    try:
        with conn.transaction():
            yield conn
    finally:
        _current.reset(token)
        pool().putconn(conn)  # a connection the server dropped is discarded, not reused
    for callback in uow.after_commit:
        try:
            callback()
        except Exception:
            logger.exception("after-commit callback failed")
    for name, (flush, items) in uow.batches.items():
        if items:
            try:
                flush(items)
            except Exception:
                logger.exception("after-commit batch failed", extra={"batch": name})


def _checkout() -> psycopg.Connection:
    """A pooled connection, or ServiceUnavailable at once when PostgreSQL cannot be reached.

    With the server gone, getconn waits for a connection the pool cannot make until its
    timeout: the first request finds that out, and for a moment after it every request is
    answered 503 straight away instead of queueing (API.md: fail fast, never hang)."""
    global _down_until
    if time.monotonic() < _down_until:
        raise ServiceUnavailable("The database is unavailable; try again shortly")
    try:
        return pool().getconn()
    except psycopg.OperationalError as exc:  # PoolTimeout is one
        _down_until = time.monotonic() + DOWN_BACKOFF_SECONDS
        raise ServiceUnavailable("The database is unavailable; try again shortly") from exc


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the current unit of work has committed (now, if none is open).
    Cache invalidation goes here: bumped before the commit, a reader could cache the
    old answer again in between."""
    uow = _current.get()
    if uow is None:
        callback()
    else:
        uow.after_commit.append(callback)


def collect_after_commit(name: str, item: Any, flush: Callable[[list[Any]], None]) -> None:
    """Add `item` to the unit of work's batch `name` once it commits; `flush(items)` then
    runs once, after every after_commit callback, with all of them (a savepoint that rolls
    back takes its items with it). Outside a unit of work the item is flushed at once."""
    uow = _current.get()
    if uow is None:
        flush([item])
        return
    batch = uow.batches.get(name)
    if batch is None:
        batch = uow.batches[name] = (flush, [])
    uow.after_commit.append(lambda: batch[1].append(item))


def ping() -> bool:
    try:
        with pool().connection(timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:
        return False
