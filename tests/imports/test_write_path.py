"""The import's write transaction, as other parts of the system see it: the text indexing
of its rows is owed (fiscaflow.search_deferred, read by the search triggers), and its rows
are queued for the search index as one set."""

import pytest

from tests.imports.conftest import queued_transactions, transactions_of

_SEEN = """
CREATE TABLE IF NOT EXISTS test_search_deferred_seen (setting TEXT);
CREATE OR REPLACE FUNCTION test_search_deferred_note() RETURNS trigger AS $$
BEGIN
    INSERT INTO test_search_deferred_seen VALUES (coalesce(current_setting('fiscaflow.search_deferred', true), ''));
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER test_search_deferred_note AFTER INSERT ON transactions
    FOR EACH STATEMENT EXECUTE FUNCTION test_search_deferred_note();
"""


@pytest.fixture
def setting_seen(conn):
    """What fiscaflow.search_deferred was in each statement that inserted transactions."""
    conn.execute(_SEEN)
    try:
        yield lambda: [r["setting"] for r in conn.execute("SELECT setting FROM test_search_deferred_seen")]
    finally:
        conn.execute("DROP TRIGGER IF EXISTS test_search_deferred_note ON transactions")
        conn.execute("DROP FUNCTION IF EXISTS test_search_deferred_note()")
        conn.execute("DROP TABLE IF EXISTS test_search_deferred_seen")


def test_the_import_defers_text_indexing_for_its_own_transaction_only(conn, owner, checking, run_import, setting_seen):
    record = run_import(owner["id"], checking, "us_chase_checking.csv")
    conn.execute(
        """INSERT INTO transactions (user_id, account_id, amount, description, transaction_date, status)
           VALUES (%s, %s, -1.00, 'after the import', CURRENT_DATE, 'posted')""",
        (owner["id"], checking),
    )

    assert record["status"] == "completed"
    assert setting_seen() == ["on", ""]  # the import's INSERT, then a write of another transaction


def test_an_imports_rows_are_queued_once_as_one_set(conn, owner, checking, run_import):
    record = run_import(owner["id"], checking, "us_chase_checking.csv")

    rows = transactions_of(conn, checking)
    (entry,) = conn.execute("SELECT aggregate_type, aggregate_id, ids_sent, processed_at FROM outbox").fetchall()
    assert (entry["aggregate_type"], entry["aggregate_id"]) == ("transaction_set", record["id"])
    assert (entry["ids_sent"], entry["processed_at"]) == (0, None)
    assert queued_transactions(conn) == {r["id"] for r in rows}
