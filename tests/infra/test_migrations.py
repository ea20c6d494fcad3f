import uuid

import psycopg
import pytest

from chalicelib.infra.migrations import discover, migrate
from tests.conftest import ADMIN_URL, connect, database_url_for

SEED_TABLES = {
    "users",
    "user_sessions",
    "family_groups",
    "family_members",
    "accounts",
    "categories",
    "transactions",
    "budgets",
    "budget_categories",
    "goals",
    "notifications",
    "audit_logs",
    "data_sync_logs",
}
DESIGN_TABLES = {"schema_migrations", "outbox", "transactions_archive", "categorization_rules", "idempotency_keys"}


@pytest.fixture
def scratch_db():
    admin = ADMIN_URL
    name = f"fiscaflow_test_scratch_{uuid.uuid4().hex[:12]}"
    with connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    yield database_url_for(name)
    with connect(admin, autocommit=True) as c:
        c.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_migrations_apply_from_scratch_and_second_run_is_a_no_op(scratch_db):
    first = migrate(scratch_db)
    second = migrate(scratch_db)

    assert first == [m.version for m in discover()]
    assert second == []
    with connect(scratch_db) as c:
        recorded = [r[0] for r in c.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert recorded == first


def test_a_changed_migration_is_refused(scratch_db, tmp_path):
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a (id int);")
    migrate(scratch_db, sql_dir=tmp_path)
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a (id bigint);")

    with pytest.raises(RuntimeError, match="changed after it was applied"):
        migrate(scratch_db, sql_dir=tmp_path)


def test_a_failing_migration_leaves_nothing_behind(scratch_db, tmp_path):
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE ok (id int);")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE half (id int); SELECT * FROM missing_table;")

    with pytest.raises(psycopg.errors.UndefinedTable):
        migrate(scratch_db, sql_dir=tmp_path)

    with connect(scratch_db) as c:
        assert c.execute("SELECT to_regclass('half')").fetchone()[0] is None
        assert [r[0] for r in c.execute("SELECT version FROM schema_migrations")] == ["0001_ok"]


def test_every_seed_and_design_table_exists(conn):
    names = {
        r["relname"]
        for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relkind IN ('r','p') AND relnamespace = 'public'::regnamespace"
        )
    }
    assert names >= SEED_TABLES | DESIGN_TABLES


def test_transactions_are_partitioned_by_month_with_a_default(conn):
    parts = {
        r["relname"]
        for r in conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'transactions'::regclass"
        )
    }
    current = conn.execute("SELECT transaction_partition_name(date_trunc('month', now())::date) AS n").fetchone()["n"]
    ahead = conn.execute(
        "SELECT transaction_partition_name((date_trunc('month', now()) + interval '3 months')::date) AS n"
    ).fetchone()["n"]
    assert {"transactions_default", current, ahead} <= parts


def test_default_category_tree_is_loaded(conn):
    rows = conn.execute(
        """SELECT p.name AS parent, c.name FROM categories c LEFT JOIN categories p ON p.id = c.parent_id
            WHERE c.is_default"""
    ).fetchall()
    top = {r["name"] for r in rows if r["parent"] is None}
    children = {(r["parent"], r["name"]) for r in rows if r["parent"]}
    assert {
        "Income",
        "Housing",
        "Transportation",
        "Food & Dining",
        "Shopping",
        "Utilities",
        "Health",
        "Entertainment",
        "Travel",
        "Transfers",
        "Fees",
        "Other",
    } <= top
    assert {
        ("Income", "Salary"),
        ("Income", "Interest"),
        ("Housing", "Rent"),
        ("Housing", "Mortgage"),
        ("Transportation", "Fuel"),
        ("Transportation", "Public Transit"),
        ("Food & Dining", "Groceries"),
        ("Food & Dining", "Restaurants"),
    } <= children


def test_money_columns_are_numeric_and_timestamps_have_time_zones(conn):
    rows = conn.execute(
        """SELECT table_name, column_name, data_type, numeric_precision, numeric_scale
             FROM information_schema.columns WHERE table_schema = 'public'"""
    ).fetchall()
    money = {
        (r["table_name"], r["column_name"]): r
        for r in rows
        if r["column_name"] in ("amount", "balance", "total_amount", "allocated_amount", "target_amount")
    }
    assert money and all(r["data_type"] == "numeric" and r["numeric_scale"] == 2 for r in money.values())
    naive = [(r["table_name"], r["column_name"]) for r in rows if r["data_type"] == "timestamp without time zone"]
    assert naive == []
