"""A logical dump of the database as a gzip stream, written from inside one snapshot.

Why this and not pg_dump: a Lambda has no pg_dump binary (and shipping one pins the
server version into the package). The data part of a pg_dump is `COPY ... TO STDOUT` per
table inside one REPEATABLE READ transaction; this does exactly that through psycopg, so
every table is read at the same instant however long the dump takes and whatever is
written meanwhile. The schema is not dumped: it is the migrations in `sql/`, whose
versions the header records; restore runs them first and refuses a dump from a newer
schema. What migrations cannot know, the partitions that upkeep jobs created, is in the
dump as `CREATE TABLE IF NOT EXISTS ... PARTITION OF` lines.

The file is plain SQL in pg_dump's data-only text format (header comments, statements one
per line, `COPY t (cols) FROM stdin;` blocks ended by `\\.`), so after `fiscaflow migrate`
it also loads with `psql -f`; `fiscaflow restore` reads the same lines."""

import zlib
from collections.abc import Callable, Iterator
from datetime import datetime

import psycopg
from psycopg import sql

FORMAT = "fiscaflow-backup 1"
END_MARKER = "-- end of fiscaflow backup"
EXCLUDED = {"schema_migrations"}  # the migration runner owns it; restore migrates first
_CHUNK = 1024 * 1024


def dumped_tables(conn: psycopg.Connection) -> list[str]:
    """Every table of the public schema that holds data: plain tables and partitioned parents
    (their partitions are read through the parent and routed again on restore)."""
    rows = conn.execute(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            ORDER BY c.relname"""
    ).fetchall()
    return [r[0] for r in rows if r[0] not in EXCLUDED]


def _columns(conn: psycopg.Connection, table: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            """SELECT attname FROM pg_attribute
                WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
                ORDER BY attnum""",
            (f"public.{table}",),
        )
    ]


def _partition_lines(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        """SELECT p.relname AS parent, c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
             FROM pg_inherits i
             JOIN pg_class c ON c.oid = i.inhrelid
             JOIN pg_class p ON p.oid = i.inhparent
             JOIN pg_namespace n ON n.oid = p.relnamespace
            WHERE n.nspname = 'public' AND p.relkind = 'p'
            ORDER BY p.relname, c.relname"""
    ).fetchall()
    return [
        sql.SQL("CREATE TABLE IF NOT EXISTS {} PARTITION OF {} ")
        .format(sql.Identifier("public", r[1]), sql.Identifier("public", r[0]))
        .as_string(conn)
        + r[2]
        + ";"
        for r in rows
    ]


def _sequence_lines(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        """SELECT format('%I.%I', schemaname, sequencename) AS name, last_value
             FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"""
    ).fetchall()
    return [
        sql.SQL("SELECT pg_catalog.setval({}, {}, {});")
        .format(sql.Literal(name), sql.Literal(value or 1), sql.Literal(value is not None))
        .as_string(conn)
        for name, value in rows
    ]


def dump_lines(
    conn: psycopg.Connection,
    *,
    created_at: datetime,
    after_table: Callable[[str], None] | None = None,
    counts: dict[str, int] | None = None,
) -> Iterator[bytes]:
    """The dump, piece by piece. `conn` must be inside a REPEATABLE READ transaction: that
    transaction's snapshot is what the dump shows. `after_table` is called once each
    table is written (progress logging; tests use it to write while the dump runs)."""
    tables = dumped_tables(conn)
    migrations = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    table_list = sql.SQL(", ").join(sql.Identifier("public", t) for t in tables).as_string(conn)
    header = [
        f"-- {FORMAT}",
        f"-- created_at: {created_at.isoformat()}",
        f"-- migrations: {','.join(migrations)}",
        f"-- tables: {','.join(tables)}",
        "-- Restore: `fiscaflow restore KEY` (migrates, then loads), or after `fiscaflow migrate`: psql -1 -f",
        "SET session_replication_role = replica;",
        "SET statement_timeout = 0;",
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM public.users) THEN RAISE EXCEPTION"
        " 'restore target already holds users: a backup is only restored into an empty database'; END IF; END $$;",
        # Migrations seed rows (default categories) that the dump holds too.
        f"TRUNCATE TABLE {table_list};",
        *_partition_lines(conn),
    ]
    yield ("\n".join(header) + "\n").encode()
    trailer = []
    for table in tables:
        cols = _columns(conn, table)
        col_sql = sql.SQL(", ").join(map(sql.Identifier, cols))
        target = sql.Identifier("public", table)
        yield (sql.SQL("COPY {} ({}) FROM stdin;\n").format(target, col_sql).as_string(conn)).encode()
        rows = 0
        with conn.cursor().copy(sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT").format(col_sql, target)) as copy:
            for data in copy:
                chunk = bytes(data)
                rows += chunk.count(b"\n")  # text format: one line per row, newlines escaped
                yield chunk
        yield b"\\.\n"
        trailer.append(f"-- rows: {table} {rows}")
        if counts is not None:
            counts[table] = rows
        if after_table is not None:
            after_table(table)
    footer = [*_sequence_lines(conn), "SET session_replication_role = DEFAULT;", *trailer, END_MARKER]
    yield ("\n".join(footer) + "\n").encode()


def gzip_chunks(pieces: Iterator[bytes], *, level: int = 6) -> Iterator[bytes]:
    """Gzip a stream of pieces into chunks of about 1 MiB."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # wbits 31: gzip container
    buffer = bytearray()
    for piece in pieces:
        buffer += compressor.compress(piece)
        if len(buffer) >= _CHUNK:
            yield bytes(buffer)
            buffer.clear()
    buffer += compressor.flush()
    yield bytes(buffer)
