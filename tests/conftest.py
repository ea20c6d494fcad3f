"""Fixtures shared by every test.

Each pytest process (each xdist worker too) gets its own database
`fiscaflow_test_<pid>_<hex>`, migrated from scratch, its own Redis key prefix and its
own bucket on the S3 server; `fiscaflow` is never touched. After each test every table
holding user data is emptied, so tests start clean and may run in any order.
"""

import base64
import os
import secrets
import uuid

import psycopg
import pytest

RUN_ID = f"{os.getpid()}_{secrets.token_hex(3)}"
# Administration (CREATE/DROP DATABASE) goes straight to PostgreSQL; everything the app and
# the tests do goes through TEST_DATABASE_BASE_URL, which CI points at PgBouncer (:6432).
ADMIN_URL = os.environ.get("TEST_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BASE_URL = os.environ.get("TEST_DATABASE_BASE_URL") or ADMIN_URL
TEST_DB = f"fiscaflow_test_{RUN_ID}"
TEST_DATABASE_URL = psycopg.conninfo.make_conninfo(BASE_URL, dbname=TEST_DB)


def database_url_for(dbname: str) -> str:
    """The URL the app would use for database `dbname` (through the pooler when there is one)."""
    return psycopg.conninfo.make_conninfo(BASE_URL, dbname=dbname)


def connect(url: str, **kwargs) -> psycopg.Connection:
    """Every test connection is made like the app's (prepare_threshold=None, TLS settings)."""
    from chalicelib.infra.db import connect as app_connect

    return app_connect(url, **kwargs)


# Settings are read once per process: set the environment before anything imports them.
os.environ.update(
    {
        "STAGE": "test",
        "DATABASE_URL": TEST_DATABASE_URL,
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "REDIS_KEY_PREFIX": f"test:{RUN_ID}:",
        "S3_BUCKET": f"fiscaflow-test-{RUN_ID.replace('_', '-')}",
        "JWT_SIGNING_KEY": secrets.token_urlsafe(48),
        "FIELD_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "LOOKUP_HASH_KEY": secrets.token_urlsafe(48),
        "LOG_LEVEL": "WARNING",
        # Tests stand in for the proxy that sets X-Forwarded-For, to simulate client addresses.
        "TRUST_FORWARDED_FOR": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        # A write waits for its live pushes (they are done when the response is): tests
        # can then prove a push did not happen without waiting for one.
        "LIVE_PUSH_WAIT_MS": "5000",
    }
)
# The suite runs on the PostgreSQL engine; tests/search's `engine` fixture points the
# Elasticsearch cases at TEST_ELASTICSEARCH_URL for their own duration.
os.environ.pop("ELASTICSEARCH_URL", None)


def pytest_sessionstart(session):
    # CI sets REQUIRE_MINIO=1: the storage tests must meet a server that checks signatures.
    if os.environ.get("REQUIRE_MINIO") == "1":
        from chalicelib.infra import storage

        if not storage.server_is_minio():
            endpoint = storage.get_settings().s3_endpoint_url
            pytest.exit(f"REQUIRE_MINIO=1 but the S3 server at {endpoint} is not MinIO", returncode=1)


# Tables that hold reference data survive between tests; every other table is emptied.
KEEP_TABLES = {"schema_migrations", "test_default_categories"}


def _drop_stale_test_databases(admin: psycopg.Connection) -> None:
    """Remove databases left by killed runs (their pid is gone)."""
    for (name,) in admin.execute("SELECT datname FROM pg_database WHERE datname LIKE 'fiscaflow\\_test\\_%'"):
        parts = name.split("_")
        try:
            pid = int(parts[2])
        except (IndexError, ValueError):
            continue
        try:
            os.kill(pid, 0)
            continue  # still running
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        admin.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name)))


@pytest.fixture(scope="session")
def database_url():
    from chalicelib.infra.migrations import migrate

    with connect(ADMIN_URL, autocommit=True) as admin:
        _drop_stale_test_databases(admin)
        admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(TEST_DB)))
    migrate(TEST_DATABASE_URL)
    yield TEST_DATABASE_URL
    from chalicelib.infra import db

    db.close_pool()
    with connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(
            psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(TEST_DB))
        )


@pytest.fixture(scope="session")
def _truncate_sql(database_url):
    with connect(database_url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"""
            )
        ]
        # categories also holds the default tree, which migrations load once: keep a copy
        # and put it back after each truncation, with the same ids.
        conn.execute("CREATE TABLE test_default_categories AS SELECT * FROM categories WHERE is_default")
        conn.commit()
    user_tables = [t for t in tables if t not in KEEP_TABLES]
    # DELETE with triggers off (replica role skips FK checks and the balance triggers), not
    # TRUNCATE: on a handful of rows it is ~100x faster (TRUNCATE rewrites every partition
    # and index file, seconds per test on a busy machine), and the order of tables no longer
    # matters.
    return (
        "SET session_replication_role = replica; "
        + " ".join(f"DELETE FROM {psycopg.sql.Identifier(t).as_string(None)};" for t in user_tables)
        + " INSERT INTO categories SELECT * FROM test_default_categories;"
        + " SET session_replication_role = DEFAULT;"
    )


@pytest.fixture
def db_url(database_url, _truncate_sql):
    """The migrated test database; emptied of user data after the test."""
    yield database_url
    from tests.analytics.monthly_totals import drift
    from tests.search import postings_check

    with connect(database_url, autocommit=True) as conn:
        # Whatever the test did to transactions, the analytics roll-up (sql/1241) and the
        # search postings (sql/1301) followed.
        off = drift(conn)
        postings_off = postings_check.drift(conn)
        conn.execute(_truncate_sql)
    assert not off, f"transaction_monthly_totals differs from transactions: {off[:5]}"
    assert not postings_off, f"search_postings differs from the rows' words: {postings_off[:5]}"


@pytest.fixture
def conn(db_url):
    """A direct connection for arranging and asserting (autocommit)."""
    from psycopg.rows import dict_row

    with connect(db_url, autocommit=True, row_factory=dict_row) as c:
        yield c


@pytest.fixture(scope="session")
def redis_client():
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    yield client
    prefix = os.environ["REDIS_KEY_PREFIX"]
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        client.delete(key)


@pytest.fixture
def redis_clean(redis_client):
    """Redis with this run's keys removed after the test."""
    yield redis_client
    from chalicelib.infra import cache

    prefix = os.environ["REDIS_KEY_PREFIX"]
    keys = list(redis_client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        redis_client.delete(*keys)
    cache.reset()


@pytest.fixture(scope="session")
def bucket():
    from chalicelib.infra import storage

    storage.ensure_bucket()
    yield storage.bucket()
    try:
        storage.delete_prefix("")
        storage.client().remove_bucket(storage.bucket())
    except Exception:
        pass


@pytest.fixture
def storage_clean(bucket):
    yield bucket
    from chalicelib.infra import storage

    storage.delete_prefix("")


@pytest.fixture
def services(db_url, redis_clean, storage_clean):
    """Every backing service, clean before and after."""
    return {"database_url": db_url, "bucket": storage_clean}


@pytest.fixture
def client(services):
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="test") as c:
        yield c


@pytest.fixture
def make_user(conn):
    """Create an active user with a live session straight in the database; returns a
    dict with id, email, session_id and ready-made Authorization headers."""
    from datetime import UTC, datetime, timedelta

    from chalicelib.auth.tokens import issue_access_token
    from chalicelib.infra.crypto import token_digest

    def make(email: str | None = None, **fields):
        email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        row = conn.execute(
            """INSERT INTO users (email, password_hash, first_name, last_name, timezone)
               VALUES (%s, 'not-a-login-hash', %s, %s, %s) RETURNING id""",
            (
                email.lower(),
                fields.get("first_name", "Test"),
                fields.get("last_name", "User"),
                fields.get("timezone", "UTC"),
            ),
        ).fetchone()
        session = conn.execute(
            """INSERT INTO user_sessions (user_id, refresh_token, expires_at) VALUES (%s, %s, %s) RETURNING id""",
            (row["id"], token_digest(secrets.token_urlsafe(32)), datetime.now(UTC) + timedelta(days=30)),
        ).fetchone()
        token = issue_access_token(user_id=row["id"], session_id=session["id"])
        return {
            "id": row["id"],
            "email": email.lower(),
            "session_id": session["id"],
            "token": token,
            "headers": {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        }

    return make


@pytest.fixture
def log_lines():
    """Every log line written during the test, as text."""
    import io
    import logging

    from chalicelib.infra.logging import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    previous = logger.log_level
    logger.setLevel(logging.DEBUG)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(previous)


@pytest.fixture
def settings_env(monkeypatch):
    """Override settings for one test through the environment (the object is frozen and cached)."""
    from chalicelib.infra.settings import get_settings

    def apply(**values):
        for name, value in values.items():
            monkeypatch.setenv(name.upper(), str(value))
        get_settings.cache_clear()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def es_at(monkeypatch):
    """Point the app at this Elasticsearch URL for one test (a closed port: the node is down)."""
    from chalicelib.infra import es_client
    from chalicelib.infra.settings import get_settings

    def point(url):
        monkeypatch.setenv("ELASTICSEARCH_URL", url)
        get_settings.cache_clear()
        es_client.reset()

    yield point
    monkeypatch.delenv("ELASTICSEARCH_URL", raising=False)
    get_settings.cache_clear()
    es_client.reset()
