"""Backups: one consistent snapshot streamed to storage, restored into an empty database."""

import gzip
import threading
import time
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from chalicelib.backups import service
from chalicelib.backups.restore import RestoreFailed, restore
from chalicelib.infra import storage
from chalicelib.retention.service import run_retention
from tests.conftest import ADMIN_URL, TEST_DB, connect, database_url_for
from tests.factories import make_account, make_family, make_transaction
from tests.retention.conftest import balances, table_counts

TODAY = datetime.now(UTC).date()


@pytest.fixture(autouse=True)
def _bucket(storage_clean):
    return storage_clean


@pytest.fixture
def empty_database():
    """A database that does not exist yet (restore creates and migrates it); dropped after."""
    name = f"{TEST_DB}_restore"
    url = database_url_for(name)
    yield url
    with connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name)))


@pytest.fixture
def data(conn, make_user):
    owner, member = make_user(), make_user()
    family = make_family(conn, owner["id"], members={member["id"]: "viewer"})
    personal = make_account(conn, owner["id"], opening_balance="100.00")
    shared = make_account(conn, owner["id"], family_id=family, name="Shared", opening_balance="5.00")
    for i in range(30):
        make_transaction(
            conn,
            owner["id"],
            personal,
            f"-{i + 1}.25",
            day=TODAY - timedelta(days=80 * i),
            description=f"Grocery 'store' \\ line\nbreak {i}",
            tags=["a", "b"],
        )
    make_transaction(conn, member["id"], shared, "-7.00", day=TODAY, family_id=family, status="cancelled")
    make_transaction(conn, owner["id"], shared, "12.00", day=date(TODAY.year - 7, 3, 3), family_id=family)
    conn.execute(
        """INSERT INTO outbox (aggregate_type, aggregate_id, operation)
           VALUES ('transaction', gen_random_uuid(), 'upsert')"""
    )
    run_retention()  # some rows archived: the archive's partitions must come back too
    assert conn.execute("SELECT count(*) AS n FROM transactions_archive").fetchone()["n"] >= 2
    return {"owner": owner}


def _open(url):
    return connect(url, autocommit=True, row_factory=dict_row)


def test_backup_then_restore_into_an_empty_database_gives_the_same_rows_and_balances(conn, data, empty_database):
    report = service.run_backup()

    assert report.key.startswith("backups/database/") and report.key.endswith(".sql.gz")
    assert report.rows["transactions"] == conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"]
    restored = restore(report.key, database_url=empty_database)

    assert restored.tables_not_in_schema == ["test_default_categories"]  # a table of the test harness only
    with _open(empty_database) as copy:
        source_counts = {k: v for k, v in table_counts(conn).items() if k != "test_default_categories"}
        copy_counts = {k: v for k, v in table_counts(copy).items() if k in source_counts}
        assert copy_counts == source_counts
        assert balances(copy) == balances(conn)
        assert all(stored == expected for stored, expected in balances(copy).values())
        for query in (
            "SELECT * FROM transactions ORDER BY id",
            "SELECT * FROM transactions_archive ORDER BY id",
            "SELECT * FROM users ORDER BY id",
        ):
            assert copy.execute(query).fetchall() == conn.execute(query).fetchall()
        # Sequences continue after the restored rows.
        last = conn.execute("SELECT max(id) AS m FROM outbox").fetchone()["m"]
        assert copy.execute("SELECT nextval('outbox_id_seq') AS n").fetchone()["n"] > last
        # The archive's months came back as partitions of the archive.
        parts = copy.execute(
            "SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'transactions_archive'::regclass"
        ).fetchone()["n"]
        assert parts >= 2


def test_a_backup_taken_while_another_thread_writes_is_one_snapshot(conn, data, empty_database):
    account = conn.execute("SELECT id, user_id FROM accounts WHERE family_id IS NULL").fetchone()
    written = []
    stop = threading.Event()

    def writer():
        with _open(conn.info.dsn) as w:
            while not stop.is_set():
                make_transaction(w, account["user_id"], account["id"], "-1.00", day=TODAY)
                written.append(1)
                time.sleep(0.005)

    def after_table(table):
        if table == "accounts":  # transactions are dumped after accounts: make sure writes land in between
            seen = len(written)
            deadline = time.monotonic() + 10
            while len(written) < seen + 5 and time.monotonic() < deadline:
                time.sleep(0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        report = service.run_backup(after_table=after_table)
    finally:
        stop.set()
        thread.join()
    assert len(written) >= 5

    restore(report.key, database_url=empty_database)
    with _open(empty_database) as copy:
        assert all(stored == expected for stored, expected in balances(copy).values())
        assert copy.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"] == report.rows["transactions"]
    assert conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"] > report.rows["transactions"]


def test_keeps_the_newest_n_backups(conn, settings_env):
    settings_env(backup_keep=2)
    keys = [service.run_backup().key for _ in range(3)]

    assert service.backup_keys() == sorted(keys)[1:]
    dry = service.run_backup(dry_run=True)
    assert dry.pruned == [sorted(keys)[1]] and service.backup_keys() == sorted(keys)[1:]


def test_dry_run_writes_nothing(conn, data):
    report = service.run_backup(dry_run=True)

    assert list(storage.list_keys("backups/")) == []
    assert report.rows["transactions"] == conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"]


def test_a_second_backup_while_one_runs_is_skipped_not_failed(conn):
    with connect(conn.info.dsn) as other:
        other.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (service.LOCK,))
        report = service.run_backup()
    assert report.skipped and report.key is None
    assert list(storage.list_keys("backups/")) == []


def test_restore_refuses_a_database_that_holds_users(conn, data):
    key = service.run_backup().key
    with pytest.raises(RestoreFailed, match="empty database"):
        restore(key, database_url=conn.info.dsn)


def test_restore_refuses_a_cut_short_backup_and_commits_nothing(conn, data, empty_database):
    key = service.run_backup().key
    whole = gzip.decompress(storage.get_bytes(key))
    storage.put_bytes("backups/database/2000-01-01_000000_000000.sql.gz", gzip.compress(whole[: len(whole) * 2 // 3]))

    with pytest.raises(RestoreFailed, match="cut short"):
        restore("backups/database/2000-01-01_000000_000000.sql.gz", database_url=empty_database)
    with _open(empty_database) as copy:
        assert copy.execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 0


def test_the_command_line_runs_the_jobs_and_refuses_a_restore_over_data(conn, data, capsys):
    from chalicelib.cli import main

    assert main(["run", "backup", "--dry-run"]) == 0
    assert main(["run", "retention", "--dry-run"]) == 0
    assert list(storage.list_keys("backups/")) == []
    assert main(["run", "backup"]) == 0
    key = service.backup_keys()[0]
    capsys.readouterr()

    assert main(["restore", key, "--database-url", conn.info.dsn]) == 1
    assert "empty database" in capsys.readouterr().err


def test_a_backup_from_before_the_search_postings_restores_with_them_rebuilt(conn, data, empty_database):
    """A dump made before sql/1301 has no search_postings: restore derives them from the rows."""
    from tests.search import postings_check

    key = service.run_backup().key
    lines = gzip.decompress(storage.get_bytes(key)).decode().split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith('COPY "public"."search_postings"'))
    end = lines.index("\\.", start)
    kept = [line for line in lines[:start] + lines[end + 1 :] if not line.startswith("-- rows: search_postings ")]
    old_key = "backups/database/2000-01-02_000000_000000.sql.gz"
    storage.put_bytes(old_key, gzip.compress("\n".join(kept).encode()))

    restored = restore(old_key, database_url=empty_database)
    assert "search_postings" not in restored.rows
    with _open(empty_database) as copy:
        assert copy.execute("SELECT count(*) AS n FROM search_postings").fetchone()["n"] > 0
        assert postings_check.drift(copy) == []
        query = "SELECT scope, word, id FROM search_postings ORDER BY id, word"
        assert copy.execute(query).fetchall() == conn.execute(query).fetchall()
