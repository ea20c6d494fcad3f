"""PostgreSQL access: one lazily opened pool per process, one transaction per use case.

`transaction()` is re-entrant within a context: a service called from inside an open
unit of work (the Idempotency-Key wrapper, an import that also raises notifications)
joins it, as a savepoint, instead of committing on its own, so the effect and its
bookkeeping commit together or not at all.
"""

import contextvars
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings

_pool: ConnectionPool | None = None
_pool_lock = threading.Lock()


class _UnitOfWork:
    __slots__ = ("after_commit", "conn")

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn
        self.after_commit: list[Callable[[], None]] = []


_current: contextvars.ContextVar[_UnitOfWork | None] = contextvars.ContextVar("fiscaflow_uow", default=None)


def _configure(conn: psycopg.Connection) -> None:
    conn.execute("SET TIME ZONE 'UTC'")
    conn.execute(f"SET statement_timeout = {int(get_settings().db_statement_timeout_ms)}")
    conn.commit()


def conninfo(url: str | None = None) -> str:
    """`url` (default: DATABASE_URL) with the TLS settings applied, where configured."""
    settings = get_settings()
    tls = {
        "sslmode": settings.db_sslmode,
        "ssl_min_protocol_version": settings.db_ssl_min_protocol_version,
    }
    return psycopg.conninfo.make_conninfo(url or settings.database_url, **{k: v for k, v in tls.items() if v})


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
                    kwargs={"row_factory": dict_row, "autocommit": False, "prepare_threshold": None},
                    configure=_configure,
                    timeout=10,
                    open=True,
                )
    return _pool


def close_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.close()
            _pool = None


@contextmanager
def transaction() -> Iterator[psycopg.Connection]:
    """Open (or join) the unit of work; commit on success, roll back on any exception."""
    joined = _current.get()
    if joined is not None:
        # A savepoint: a joined block that fails undoes its own writes and nothing else,
        # exactly as it would have on its own.
        with joined.conn.transaction():
            yield joined.conn
        return
    with pool().connection() as conn:
        uow = _UnitOfWork(conn)
        token = _current.set(uow)
        try:
            with conn.transaction():
                yield conn
        finally:
            _current.reset(token)
    for callback in uow.after_commit:
        try:
            callback()
        except Exception:
            logger.exception("after-commit callback failed")


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the current unit of work has committed (now, if none is open).
    Cache invalidation goes here: bumped before the commit, a reader could cache the
    old answer again in between."""
    uow = _current.get()
    if uow is None:
        callback()
    else:
        uow.after_commit.append(callback)


def in_transaction() -> bool:
    return _current.get() is not None


def ping() -> bool:
    try:
        with pool().connection(timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:
        return False
