"""Ordered SQL migrations from sql/: each file in its own transaction, recorded in
schema_migrations with its checksum; a second run applies nothing."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import psycopg

from chalicelib.infra.db import connect

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
# Any constant: serialises concurrent runners (two containers starting at once).
_LOCK_ID = 727_001


@dataclass(frozen=True)
class Migration:
    version: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover(sql_dir: Path = SQL_DIR) -> list[Migration]:
    return [Migration(p.stem, p) for p in sorted(sql_dir.glob("*.sql"))]


def migrate(database_url: str, *, sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply pending migrations; returns the versions applied."""
    applied: list[str] = []
    # Transaction-scoped locks only: behind PgBouncer in transaction mode a session lock is
    # taken on one server connection and "released" on another, and stays held.
    with connect(database_url, autocommit=True) as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
            conn.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       version VARCHAR(255) PRIMARY KEY,
                       checksum VARCHAR(64) NOT NULL,
                       applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW())"""
            )
            done = {r[0]: r[1] for r in conn.execute("SELECT version, checksum FROM schema_migrations")}
        for migration in discover(sql_dir):
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise RuntimeError(
                        f"migration {migration.version} was changed after it was applied; add a new migration instead"
                    )
                continue
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
                # A concurrent runner may have applied it while we waited for the lock.
                if conn.execute("SELECT 1 FROM schema_migrations WHERE version = %s", (migration.version,)).fetchone():
                    continue
                conn.execute(migration.sql)
                conn.execute(
                    "INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)",
                    (migration.version, migration.checksum),
                )
            applied.append(migration.version)
    return applied


def ensure_database(database_url: str) -> bool:
    """Create the database named in the URL if it does not exist; True if created."""
    info = psycopg.conninfo.conninfo_to_dict(database_url)
    name = info["dbname"]
    admin = psycopg.conninfo.make_conninfo(database_url, dbname="postgres")
    with connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
        return True
