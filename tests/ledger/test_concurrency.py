"""Balances stay exact with several writers on one account at once: through the
services (which lock the touched accounts first), and through plain SQL inserts like a
bulk import's (regression: the foundation's balance trigger took FOR UPDATE on the
account while every writer's foreign-key check held FOR KEY SHARE, so two concurrent
inserts deadlocked; sql/0201 takes FOR NO KEY UPDATE)."""

import threading
import uuid
from datetime import date, timedelta
from decimal import Decimal

from chalicelib.core.actor import Actor
from chalicelib.ledger.transactions import service
from chalicelib.ledger.transactions.models import TransactionCreate, TransactionPatch
from tests.conftest import connect
from tests.factories import make_account
from tests.ledger.conftest import balance

THREADS = 6
PER_THREAD = 12


def _actor(user) -> Actor:
    return Actor(
        user_id=user["id"],
        session_id=user["session_id"],
        ip_address="127.0.0.1",
        user_agent="test",
        request_id=uuid.uuid4().hex,
    )


def test_concurrent_writers_leave_an_exact_balance(make_user, conn, services):
    user = make_user()
    acc = make_account(conn, user["id"], opening_balance="1000.00")
    other = make_account(conn, user["id"], name="Other")
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(PER_THREAD):
                t = service.create_transaction(
                    actor=_actor(user),
                    data=TransactionCreate(
                        account_id=acc,
                        amount=Decimal(f"-{n + 1}.{i:02d}"),
                        description=f"w{n}-{i}",
                        transaction_date=date.today() - timedelta(days=(n * PER_THREAD + i) % 70),
                    ),
                )
                if i % 4 == 0:
                    service.update_transaction(
                        actor=_actor(user), transaction_id=t["id"], data=TransactionPatch(amount=Decimal("-0.01"))
                    )
                if i % 6 == 5:
                    service.update_transaction(
                        actor=_actor(user), transaction_id=t["id"], data=TransactionPatch(account_id=other)
                    )
                if i % 5 == 3:
                    service.delete_transaction(actor=_actor(user), transaction_id=t["id"])
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    sums = {
        r["account_id"]: r["total"]
        for r in conn.execute(
            "SELECT account_id, sum(amount) AS total FROM transactions WHERE status <> 'cancelled' GROUP BY account_id"
        )
    }
    assert Decimal(balance(conn, acc)) == Decimal("1000.00") + sums[acc]
    assert Decimal(balance(conn, other)) == sums[other]
    assert conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"] > THREADS * PER_THREAD // 2


def test_concurrent_plain_inserts_do_not_deadlock(make_user, conn, db_url):
    user = make_user()
    acc = make_account(conn, user["id"])
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer() -> None:
        try:
            with connect(db_url) as c:
                start.wait()
                for _ in range(25):
                    c.execute(
                        """INSERT INTO transactions (user_id, account_id, amount, description, transaction_date, status)
                           VALUES (%s, %s, 1, 'x', CURRENT_DATE, 'posted')""",
                        (user["id"], acc),
                    )
                    c.execute("SELECT pg_sleep(0.002)")
                    c.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert balance(conn, acc) == "100.00"
