"""db.after_commit / db.collect_after_commit: work that must follow a commit (cache
invalidation, live pushes) runs once the unit of work commits, never for rolled-back work."""

import psycopg
import pytest

from chalicelib.infra import db


def test_a_batch_is_flushed_once_after_the_commit_with_the_items_of_surviving_blocks(db_url):
    flushed, seen_in_transaction = [], []

    def flush(items):
        flushed.append((list(items), conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS))

    with db.transaction() as conn:
        db.collect_after_commit("test", "outer", flush)
        with pytest.raises(RuntimeError), db.transaction():
            db.collect_after_commit("test", "failed savepoint", flush)
            db.after_commit(lambda: seen_in_transaction.append("failed savepoint callback"))
            raise RuntimeError("the joined block fails")
        with db.transaction():
            db.collect_after_commit("test", "kept savepoint", flush)
        conn.execute("SELECT 1")
        assert flushed == []

    assert flushed == [(["outer", "kept savepoint"], False)]
    assert seen_in_transaction == []


def test_a_rolled_back_unit_of_work_flushes_nothing(db_url):
    flushed = []
    with pytest.raises(RuntimeError), db.transaction():
        db.collect_after_commit("test", "never", flushed.append)
        raise RuntimeError("the use case fails")
    assert flushed == []


def test_outside_a_unit_of_work_the_item_is_flushed_at_once(db_url):
    flushed = []
    db.collect_after_commit("test", "now", flushed.append)
    assert flushed == [["now"]]
