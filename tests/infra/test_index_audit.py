"""Every index of `transactions` and `transactions_archive` is used by the query that the
audit table (tests/infra/index_audit.py) names for it, and no index exists that it does
not name.

The data is generated once for the module: 41 people with two personal accounts each, a
family of three with two shared accounts, 150 rows per account over the last four months
(five monthly partitions), one of the people with 9,000 more (a long history), an
archived month, then VACUUM ANALYZE, so that the planner
chooses as it would on a real multi-user table rather than scanning a handful of pages."""

import json
from datetime import date, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from chalicelib.core.dates import shift_month
from chalicelib.infra import db
from tests.infra.index_audit import ARCHIVE, AUDIT, LIVE

PEOPLE = 41
ROWS_PER_ACCOUNT = 150
WHALE_ROWS_PER_ACCOUNT = 3000
DAYS = 120
MERCHANTS = [
    f"{city} {kind}"
    for city in ("Kyoto", "Oslo", "Lagos", "Quito", "Perth", "Ghent")
    for kind in ("Market", "Cafe", "Fuel", "Books", "Grill")
]

_GENERATE = """
WITH acc AS (SELECT id, user_id, family_id, row_number() OVER (ORDER BY id)::int AS k FROM accounts
              WHERE user_id = ANY(%(owners)s)),
cats AS (SELECT array_agg(id ORDER BY name) AS ids FROM categories WHERE is_default AND parent_id IS NOT NULL)
INSERT INTO {table} (user_id, family_id, account_id, category_id, amount, description, merchant, transaction_date,
                     posted_date, status, external_id, tags, categorization_source, created_at)
SELECT a.user_id, a.family_id, a.id,
       cats.ids[1 + abs(hashint4(n * 7 + a.k)) %% array_length(cats.ids, 1)],
       CASE WHEN n %% 15 = 0 THEN 500 + n %% 300 ELSE -(100 + abs(hashint4(n * 13 + a.k)) %% 20000) / 100.0 END,
       CASE WHEN n = 77 AND a.k %% 10 = 1 THEN 'Zanzibar spice ' || m.name
            ELSE 'POS ' || m.name || ' #' || (n * a.k %% 997) END,
       m.name, d.day, d.day + 1,
       CASE WHEN n %% 40 = 0 THEN 'pending' WHEN n %% 97 = 0 THEN 'cancelled' ELSE 'posted' END,
       CASE WHEN n %% 2 = 0 THEN 'ext-' || a.k || '-' || n END,
       CASE WHEN n %% 10 = 0 THEN ARRAY['tag' || n %% 7] END,
       CASE WHEN n %% 3 = 0 THEN 'manual' ELSE 'ml' END,
       d.day + make_interval(secs => abs(hashint4(n + a.k)) %% 86400)
  FROM acc a CROSS JOIN cats CROSS JOIN generate_series(1, %(rows)s) n
 CROSS JOIN LATERAL (SELECT (%(first)s::date + (n * %(days)s / %(rows)s))::date AS day) d
 CROSS JOIN LATERAL (SELECT (%(merchants)s::text[])[1 + abs(hashint4(n + a.k * 1000)) %% %(n_merchants)s] AS name) m
"""


def _archive_month() -> date:
    today = date.today()
    return date(today.year - 7, today.month, 1)


@pytest.fixture(scope="module")
def world(database_url, _truncate_sql):
    today = date.today()
    month = _archive_month()
    partition = f"transactions_archive_y{month:%Y}m{month:%m}"
    with db.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        people = [
            r["id"]
            for r in conn.execute(
                """INSERT INTO users (email, password_hash)
                   SELECT 'audit-' || g || '@example.com', 'x' FROM generate_series(1, %s) g RETURNING id""",
                (PEOPLE,),
            )
        ]
        me, partner, child, whale = people[:4]
        family = conn.execute(
            "INSERT INTO family_groups (name, owner_id) VALUES ('Family', %s) RETURNING id", (me,)
        ).fetchone()["id"]
        for person, role in ((me, "owner"), (partner, "member"), (child, "viewer")):
            conn.execute(
                "INSERT INTO family_members (family_id, user_id, role) VALUES (%s, %s, %s)", (family, person, role)
            )
        conn.execute(
            """INSERT INTO accounts (user_id, family_id, name, type, opening_balance, allow_negative)
               SELECT u, NULL, 'Account ' || i, 'checking', 0, true FROM unnest(%s::uuid[]) u, generate_series(1, 2) i
               UNION ALL SELECT %s, %s, 'Shared ' || i, 'checking', 0, true FROM generate_series(1, 2) i""",
            (people, me, family),
        )
        params = {"merchants": MERCHANTS, "n_merchants": len(MERCHANTS)}
        first = today - timedelta(days=DAYS)
        others = [p for p in people if p != whale]
        conn.execute(
            _GENERATE.format(table=LIVE),
            {**params, "owners": others, "rows": ROWS_PER_ACCOUNT, "first": first, "days": DAYS},
        )
        conn.execute(
            """INSERT INTO accounts (user_id, name, type, opening_balance, allow_negative)
               VALUES (%s, 'Card', 'credit_card', 0, true)""",
            (whale,),
        )
        conn.execute(
            _GENERATE.format(table=LIVE),
            {**params, "owners": [whale], "rows": WHALE_ROWS_PER_ACCOUNT, "first": first, "days": DAYS},
        )
        bounds = f"FROM ('{month}') TO ('{shift_month(month, 1)}')"
        conn.execute(f"CREATE TABLE {partition} PARTITION OF {ARCHIVE} FOR VALUES {bounds}")
        conn.execute(
            _GENERATE.format(table=ARCHIVE),
            {**params, "owners": people, "rows": ROWS_PER_ACCOUNT // 4, "first": month, "days": 27},
        )
        # VACUUM too, as autovacuum would have: it moves the GIN indexes' pending lists into the
        # indexes proper (while they hold fresh rows a GIN scan is costed as reading them all).
        conn.execute("VACUUM ANALYZE transactions")
        conn.execute("VACUUM ANALYZE transactions_archive")
        conn.execute("VACUUM ANALYZE search_postings")
        conn.execute("ANALYZE accounts")
        from chalicelib.families.access import load_access

        my_account = conn.execute(
            "SELECT id FROM accounts WHERE user_id = %s AND family_id IS NULL ORDER BY name LIMIT 1", (me,)
        ).fetchone()["id"]
        mine = conn.execute(
            "SELECT id, transaction_date FROM transactions WHERE account_id = %s ORDER BY id LIMIT 1", (my_account,)
        ).fetchone()
        budget = conn.execute(
            """INSERT INTO budgets (user_id, name, period_type, start_date, total_amount)
               VALUES (%s, 'Food', 'monthly', %s, 500) RETURNING id""",
            (me, today.replace(day=1) - timedelta(days=365)),
        ).fetchone()["id"]
        category = conn.execute(
            "SELECT id FROM categories WHERE is_default AND parent_id IS NOT NULL ORDER BY name LIMIT 1"
        ).fetchone()["id"]
        conn.execute(
            "INSERT INTO budget_categories (budget_id, category_id, allocated_amount) VALUES (%s, %s, 200)",
            (budget, category),
        )
        world = {
            "me": me,
            "family": family,
            "access": load_access(conn, me),
            "whale_access": load_access(conn, whale),
            "my_account": my_account,
            "my_transaction": (mine["id"], mine["transaction_date"]),
            "category": category,
            "archived_transaction": conn.execute(
                f"SELECT id FROM {ARCHIVE} WHERE user_id = %s LIMIT 1", (me,)
            ).fetchone()["id"],
        }
    yield world
    with db.connect(database_url, autocommit=True) as conn:
        conn.execute(_truncate_sql)
        conn.execute(f"DROP TABLE {partition}")


@pytest.fixture(scope="module")
def audit_conn(world, database_url):
    with db.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("LOAD 'auto_explain'")
        yield conn


def _parent_index(conn) -> dict[str, str]:
    """Index name -> the name of the top parent index of the two tables (itself for those)."""
    rows = conn.execute(
        """WITH RECURSIVE up(idx, top) AS (
               SELECT i.indexrelid, i.indexrelid FROM pg_index i
                WHERE i.indrelid IN ('transactions'::regclass, 'transactions_archive'::regclass,
                                     'search_postings'::regclass)
               UNION ALL
               SELECT p.inhrelid, up.top FROM pg_inherits p JOIN up ON p.inhparent = up.idx)
           SELECT idx::regclass::text AS idx, top::regclass::text AS top FROM up"""
    ).fetchall()
    return {r["idx"]: r["top"] for r in rows}


def _index_names(node) -> set[str]:
    found = set()
    if isinstance(node, dict):
        if "Index Name" in node:
            found.add(node["Index Name"])
        for value in node.values():
            found |= _index_names(value)
    elif isinstance(node, list):
        for value in node:
            found |= _index_names(value)
    return found


def _plans_of_run(conn, use, world) -> list[dict]:
    """Run the code in a transaction that is rolled back; auto_explain sends each plan to us."""
    messages: list[str] = []

    def on_notice(diag):
        messages.append(diag.message_primary or "")

    conn.add_notice_handler(on_notice)
    try:
        with conn.transaction():
            for setting, value in (
                ("auto_explain.log_min_duration", "0"),
                ("auto_explain.log_format", "json"),
                ("auto_explain.log_level", "notice"),
                ("auto_explain.log_nested_statements", "on"),
                ("client_min_messages", "notice"),
            ):
                conn.execute("SELECT set_config(%s, %s, true)", (setting, value))
            use.run(conn, world)
            raise psycopg.Rollback()
    finally:
        conn.remove_notice_handler(on_notice)
    return [json.loads(m.split("plan:", 1)[1]) for m in messages if "plan:" in m]


CASES = [(table, index, use) for (table, index), uses in AUDIT.items() for use in uses]


@pytest.mark.parametrize(("table", "index", "use"), CASES, ids=[f"{i}: {u.what.split(' (')[0]}" for _, i, u in CASES])
def test_the_query_that_needs_the_index_uses_it(audit_conn, world, table, index, use):
    if use.explain is not None:
        query, params = use.explain(audit_conn, world)
        plans = [audit_conn.execute(psycopg.sql.SQL("EXPLAIN (FORMAT JSON) ") + query, params).fetchone()["QUERY PLAN"]]
    else:
        plans = _plans_of_run(audit_conn, use, world)
    parents = _parent_index(audit_conn)
    used = {parents.get(name, name) for name in _index_names(plans)}
    assert index in used, f"{use.what}: {index} not in the plan; indexes used: {sorted(used)}"


def test_every_index_of_the_two_tables_is_in_the_audit(conn):
    """A new index comes with the query that needs it (tests/infra/index_audit.py)."""
    existing = {
        (r["table"], r["index"])
        for r in conn.execute(
            """SELECT indrelid::regclass::text AS table, indexrelid::regclass::text AS index FROM pg_index
                WHERE indrelid IN ('transactions'::regclass, 'transactions_archive'::regclass,
                                   'search_postings'::regclass)"""
        )
    }
    assert existing - set(AUDIT) == set(), "indexes without a query in the audit table"
    assert set(AUDIT) - existing == set(), "audited indexes that no longer exist"
    # Partitions carry their parent's indexes and nothing else.
    strays = conn.execute(
        """SELECT i.indexrelid::regclass::text AS index FROM pg_inherits p JOIN pg_index i ON i.indrelid = p.inhrelid
            WHERE p.inhparent IN ('transactions'::regclass, 'transactions_archive'::regclass)
              AND NOT EXISTS (SELECT 1 FROM pg_inherits x WHERE x.inhrelid = i.indexrelid)"""
    ).fetchall()
    assert strays == []
