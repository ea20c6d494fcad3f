"""Issue 16 item 11: every connection is made by one factory (no server-side prepared
statements, so PgBouncer in transaction mode works; TLS as configured), and the app's
connections use TLS 1.3 when the server offers it."""

import os
import re
from pathlib import Path

import psycopg
import pytest

from chalicelib.infra import db
from chalicelib.infra.settings import Settings
from tests.conftest import ADMIN_URL

ROOT = Path(__file__).resolve().parents[2]


def test_regression_issue16_no_connection_is_opened_outside_the_factory():
    """Backups, restore, search indices, migrations and the tests' own connections all go
    through chalicelib.infra.db.connect (71 DuplicatePreparedStatement errors behind PgBouncer
    came from the ones that did not)."""
    offenders = []
    for folder in ("chalicelib", "tests", "app.py"):
        for path in [ROOT / folder] if folder.endswith(".py") else (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if re.search(r"psycopg\.(connect|Connection\.connect)\(", text) and path != ROOT / "chalicelib/infra/db.py":
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_factory_and_pool_connections_never_prepare(db_url, conn):
    with db.connect() as direct:
        assert direct.prepare_threshold is None
        # Many runs of one statement: with the default threshold the sixth is prepared, which
        # behind PgBouncer (transaction mode) fails on the next server connection.
        for _ in range(12):
            direct.execute("SELECT %s::int + 1", (1,)).fetchone()
            direct.commit()
    with db.pool().connection() as pooled:
        assert pooled.prepare_threshold is None
    assert conn.prepare_threshold is None  # the tests' own `conn` fixture


def test_tls_settings_enter_every_connection_string(monkeypatch):
    tls = Settings(db_sslmode="require", db_ssl_min_protocol_version="TLSv1.3")
    monkeypatch.setattr(db, "get_settings", lambda: tls)
    info = psycopg.conninfo.conninfo_to_dict(db.conninfo("postgresql://u@h:1/d"))
    assert info["sslmode"] == "require" and info["ssl_min_protocol_version"] == "TLSv1.3"
    monkeypatch.setattr(db, "get_settings", lambda: Settings())
    assert "sslmode" not in psycopg.conninfo.conninfo_to_dict(db.conninfo("postgresql://u@h:1/d"))


def test_regression_issue16_app_connections_use_tls13_when_the_server_offers_it(db_url, monkeypatch):
    with db.connect(ADMIN_URL) as admin:
        if admin.execute("SHOW ssl").fetchone()[0] != "on":
            pytest.skip("this PostgreSQL offers no TLS")
    tls = Settings(db_sslmode="require", db_ssl_min_protocol_version="TLSv1.3")
    monkeypatch.setattr(db, "get_settings", lambda: tls)
    db.close_pool()
    try:
        with db.transaction() as conn:
            assert conn.pgconn.ssl_in_use  # our leg: to PostgreSQL, or to PgBouncer in front of it
            # The server's own view of the session it serves (behind PgBouncer: PgBouncer's leg).
            row = conn.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
        assert (row["ssl"], row["version"]) == (True, "TLSv1.3")
        with db.connect(row_factory=psycopg.rows.dict_row) as direct:
            row = direct.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
            assert direct.pgconn.ssl_in_use and (row["ssl"], row["version"]) == (True, "TLSv1.3")
    finally:
        db.close_pool()  # the next test opens the pool with the run's own settings


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="CI runs the suite through PgBouncer (scripts/test.sh)")
def test_ci_runs_the_suite_through_pgbouncer(conn):
    assert conn.info.port == 6432
    assert conn.execute("SHOW port").fetchone()["port"] == "5432"  # the server behind it
