"""`fiscaflow restore KEY`: a backup loaded into an empty database, all or nothing.

The target is migrated first (schema from `sql/`), then the dump runs in ONE transaction
with session_replication_role = replica: no trigger fires, so balances, search postings
and every other derived column arrive exactly as they were in the snapshot (the balance
triggers would otherwise add every transaction to the balance a second time) and foreign
keys need no load order. Row counts are checked against the dump's trailer, sequences are
set from it, and a dump cut short (no end marker) is refused before anything commits.
Replica mode needs a superuser or, on RDS, rds_superuser."""

import contextlib
import gzip
import re
import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from chalicelib.backups.dump import END_MARKER, FORMAT
from chalicelib.infra import db, storage
from chalicelib.infra.logging import logger
from chalicelib.infra.migrations import ensure_database, migrate
from chalicelib.infra.settings import get_settings

_COPY = re.compile(r'^COPY "public"\."((?:[^"]|"")+)" \((.*)\) FROM stdin;$')
_ROWS = re.compile(r"^-- rows: (\S+) (\d+)$")
# The statements a dump contains; anything else in the file is refused, not run.
_STATEMENTS = (
    "SET ",
    "DO $$ BEGIN IF EXISTS",
    "TRUNCATE TABLE ",
    "CREATE TABLE IF NOT EXISTS ",
    "SELECT pg_catalog.setval(",
)
_FLUSH = 1024 * 1024


class RestoreFailed(Exception):
    pass


@dataclass
class RestoreReport:
    key: str
    database: str
    tables: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    tables_not_in_schema: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _existing_tables(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"""
    ).fetchall()
    return {r[0] for r in rows}


def _check_header(conn: psycopg.Connection, header: dict[str, str]) -> None:
    if header.get("format") != FORMAT:
        raise RestoreFailed("not a FiscaFlow backup (or an unknown format version)")
    applied = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
    newer = [v for v in header.get("migrations", "").split(",") if v and v not in applied]
    if newer:
        raise RestoreFailed(f"the backup's schema is newer than this code (missing migrations: {', '.join(newer)})")


def _load(conn: psycopg.Connection, lines, report: RestoreReport) -> None:
    header: dict[str, str] = {}
    expected: dict[str, int] = {}
    existing = _existing_tables(conn)
    ended = False
    for number, raw in enumerate(lines, start=1):
        line = raw.decode().rstrip("\n")
        if number == 1:
            header["format"] = line.removeprefix("-- ")
            continue
        if line.startswith("-- "):
            if ": " in line and not line.startswith("-- rows:") and not header.get("checked"):
                name, _, value = line[3:].partition(": ")
                header[name] = value
            if match := _ROWS.match(line):
                expected[match[1]] = int(match[2])
            ended = ended or line == END_MARKER
            continue
        if not line:
            continue
        if not header.get("checked"):
            _check_header(conn, header)
            header["checked"] = "yes"
        if match := _COPY.match(line):
            table = match[1].replace('""', '"')
            report.rows[table] = _copy_block(conn, line, lines, load=table in existing)
            if table not in existing:
                report.tables_not_in_schema.append(table)
            continue
        if not line.startswith(_STATEMENTS):
            raise RestoreFailed(f"line {number}: not a statement a FiscaFlow backup contains")
        if line.startswith("TRUNCATE TABLE "):
            # Only tables this schema has (a table outside the migrations is reported, not created).
            tables = [t for t in header.get("tables", "").split(",") if t in existing]
            if tables:
                conn.execute(
                    sql.SQL("TRUNCATE TABLE {}").format(sql.SQL(", ").join(sql.Identifier("public", t) for t in tables))
                )
            continue
        try:
            conn.execute(line)
        except psycopg.errors.RaiseException as exc:
            raise RestoreFailed(exc.diag.message_primary) from exc
    if not ended:
        raise RestoreFailed("the backup is cut short (no end marker)")
    for table, count in expected.items():
        if table in existing and report.rows.get(table) != count:
            raise RestoreFailed(f"{table}: {report.rows.get(table)} rows loaded, the backup lists {count}")
    if "transaction_monthly_totals" in existing and "transaction_monthly_totals" not in report.rows:
        # A dump from before sql/1241 has no analytics roll-up: derive it from the rows loaded.
        conn.execute("SELECT transaction_monthly_totals_rebuild()")
    if "search_postings" in existing and "search_postings" not in report.rows:
        # A dump from before sql/1301 has no search postings: derive them from the rows loaded.
        conn.execute("SELECT search_postings_rebuild()")


def _copy_block(conn: psycopg.Connection, statement: str, lines, *, load: bool) -> int:
    rows = 0
    buffer = bytearray()
    with contextlib.ExitStack() as stack:
        copy = stack.enter_context(conn.cursor().copy(statement)) if load else None
        for raw in lines:
            if raw == b"\\.\n":
                break
            rows += 1
            if copy is not None:
                buffer += raw
                if len(buffer) >= _FLUSH:
                    copy.write(bytes(buffer))
                    buffer.clear()
        else:
            raise RestoreFailed("the backup is cut short (a COPY block never ends)")
        if copy is not None and buffer:
            copy.write(bytes(buffer))
    return rows


def restore(key: str, *, database_url: str | None = None) -> RestoreReport:
    """Load backup `key` into the (empty) database at database_url, migrating it first."""
    started = time.monotonic()
    url = database_url or get_settings().database_url
    ensure_database(url)
    migrate(url)
    report = RestoreReport(key=key, database=psycopg.conninfo.conninfo_to_dict(url).get("dbname", ""))
    # One transaction: psycopg commits on leaving the block, and only if nothing raised.
    with (
        contextlib.closing(storage.open_stream(key)) as response,
        gzip.GzipFile(fileobj=response) as lines,
        db.connect(url) as conn,
    ):
        _load(conn, lines, report)
    report.tables = len(report.rows)
    report.seconds = round(time.monotonic() - started, 3)
    logger.info(
        f"restored {key}: {report.tables} tables, {sum(report.rows.values())} rows in {report.seconds}s",
        extra={"tables_not_in_schema": report.tables_not_in_schema},
    )
    return report
