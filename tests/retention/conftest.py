import pytest

from tests.factories import make_account, make_family, make_transaction  # noqa: F401


@pytest.fixture(autouse=True)
def _bucket(storage_clean):
    """The retention run also purges expired export files: every test has the bucket."""
    return storage_clean


def balances(conn) -> dict:
    """Every account's stored balance next to the rule: opening + non-cancelled live and archived."""
    rows = conn.execute(
        """SELECT a.id, a.balance,
                  a.opening_balance + COALESCE((SELECT sum(amount) FROM transactions t
                                                 WHERE t.account_id = a.id AND t.status <> 'cancelled'), 0)
                                    + COALESCE((SELECT sum(amount) FROM transactions_archive t
                                                 WHERE t.account_id = a.id AND t.status <> 'cancelled'), 0) AS expected
             FROM accounts a ORDER BY a.id"""
    ).fetchall()
    return {r["id"]: (r["balance"], r["expected"]) for r in rows}


def where_is(conn, transaction_id) -> str:
    """'live', 'archive' (or 'both'/'none', which must never happen) and the partition holding it."""
    live = conn.execute(
        "SELECT tableoid::regclass::text AS p FROM transactions WHERE id = %s", (transaction_id,)
    ).fetchone()
    archived = conn.execute(
        "SELECT tableoid::regclass::text AS p FROM transactions_archive WHERE id = %s", (transaction_id,)
    ).fetchone()
    if live and archived:
        return "both"
    if live:
        return f"live:{live['p']}"
    if archived:
        return f"archive:{archived['p']}"
    return "none"


def layout(conn) -> list:
    return conn.execute(
        """SELECT p.relname AS parent, c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
            WHERE p.relname IN ('transactions', 'transactions_archive') ORDER BY 1, 2"""
    ).fetchall()


def table_counts(conn) -> dict:
    tables = [
        r["relname"]
        for r in conn.execute(
            """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"""
        )
    ]
    return {t: conn.execute(f'SELECT count(*) AS n FROM "{t}"').fetchone()["n"] for t in sorted(tables)}
