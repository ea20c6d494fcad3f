"""Balance rules checked directly in SQL (ARCHITECTURE.md decision 2)."""

from decimal import Decimal

import psycopg
import pytest

from tests.conftest import connect


@pytest.fixture
def owner(conn):
    return conn.execute(
        "INSERT INTO users (email, password_hash) VALUES ('owner@example.com', 'x') RETURNING id"
    ).fetchone()["id"]


def _account(conn, owner, type_="checking", opening="0.00"):
    return conn.execute(
        "INSERT INTO accounts (user_id, name, type, opening_balance) VALUES (%s, %s, %s, %s) RETURNING id",
        (owner, type_, type_, opening),
    ).fetchone()["id"]


def _balance(conn, account_id) -> Decimal:
    return conn.execute("SELECT balance FROM accounts WHERE id = %s", (account_id,)).fetchone()["balance"]


def _txn(conn, owner, account_id, amount, *, status="posted", day="CURRENT_DATE"):
    return conn.execute(
        f"""INSERT INTO transactions (user_id, account_id, amount, description, transaction_date, status)
            VALUES (%s, %s, %s, 'test', {day}, %s) RETURNING id""",
        (owner, account_id, Decimal(amount), status),
    ).fetchone()["id"]


def test_opening_balance_is_the_starting_balance_and_moves_with_it(conn, owner):
    acc = _account(conn, owner, opening="100.50")
    assert _balance(conn, acc) == Decimal("100.50")
    _txn(conn, owner, acc, "-0.50")

    conn.execute("UPDATE accounts SET opening_balance = 200 WHERE id = %s", (acc,))

    assert _balance(conn, acc) == Decimal("199.50")


def test_insert_amount_change_cancel_uncancel_and_delete(conn, owner):
    acc = _account(conn, owner, opening="100.00")
    t = _txn(conn, owner, acc, "-30.25")
    assert _balance(conn, acc) == Decimal("69.75")

    conn.execute("UPDATE transactions SET amount = -40.00 WHERE id = %s", (t,))
    assert _balance(conn, acc) == Decimal("60.00")

    conn.execute("UPDATE transactions SET status = 'cancelled' WHERE id = %s", (t,))
    assert _balance(conn, acc) == Decimal("100.00")

    conn.execute("UPDATE transactions SET status = 'posted' WHERE id = %s", (t,))
    assert _balance(conn, acc) == Decimal("60.00")

    conn.execute("DELETE FROM transactions WHERE id = %s", (t,))
    assert _balance(conn, acc) == Decimal("100.00")


def test_cancelled_insert_and_cancelled_delete_do_not_count(conn, owner):
    acc = _account(conn, owner)
    t = _txn(conn, owner, acc, "-10.00", status="cancelled")
    assert _balance(conn, acc) == Decimal("0.00")
    conn.execute("DELETE FROM transactions WHERE id = %s", (t,))
    assert _balance(conn, acc) == Decimal("0.00")


def test_move_between_accounts_charges_the_new_account_the_new_amount(conn, owner):
    """Regression: the seed's UPDATE branch charged the new account for the old amount."""
    a = _account(conn, owner, opening="100.00")
    b = _account(conn, owner, "credit_card")
    t = _txn(conn, owner, a, "-25.00")

    conn.execute("UPDATE transactions SET account_id = %s, amount = -30.00 WHERE id = %s", (b, t))

    assert _balance(conn, a) == Decimal("100.00")
    assert _balance(conn, b) == Decimal("-30.00")


def test_a_date_change_across_monthly_partitions_keeps_the_balance(conn, owner):
    acc = _account(conn, owner)
    t = _txn(conn, owner, acc, "-12.34")

    conn.execute("UPDATE transactions SET transaction_date = CURRENT_DATE - 400 WHERE id = %s", (t,))

    assert _balance(conn, acc) == Decimal("-12.34")


def test_credit_cards_loans_and_checking_may_go_negative_savings_may_not(conn, owner):
    for type_ in ("checking", "credit_card", "loan"):
        acc = _account(conn, owner, type_)
        _txn(conn, owner, acc, "-5.00")
        assert _balance(conn, acc) == Decimal("-5.00")
    savings = _account(conn, owner, "savings")

    with pytest.raises(psycopg.errors.CheckViolation):
        _txn(conn, owner, savings, "-5.00")

    assert _balance(conn, savings) == Decimal("0.00")
    assert conn.execute("SELECT count(*) AS n FROM transactions WHERE account_id = %s", (savings,)).fetchone()["n"] == 0


def test_ten_thousand_rows_in_one_insert_give_the_exact_sum_with_one_update_per_account(db_url, conn, owner):
    a = _account(conn, owner, opening="10.00")
    b = _account(conn, owner, "credit_card")
    with connect(db_url) as tx:
        before = tx.execute("SELECT pg_stat_get_xact_tuples_updated('accounts'::regclass)").fetchone()[0]
        tx.execute(
            """INSERT INTO transactions (user_id, account_id, amount, description, transaction_date, status)
               SELECT %s, CASE WHEN g %% 2 = 0 THEN %s::uuid ELSE %s::uuid END,
                      ((g %% 997) + 1) * 0.01 * CASE WHEN g %% 3 = 0 THEN -1 ELSE 1 END,
                      'bulk ' || g, CURRENT_DATE - (g %% 700),
                      CASE WHEN g %% 50 = 0 THEN 'cancelled' ELSE 'posted' END
                 FROM generate_series(1, 10000) g""",
            (owner, a, b),
        )
        after = tx.execute("SELECT pg_stat_get_xact_tuples_updated('accounts'::regclass)").fetchone()[0]
        tx.commit()

    assert after - before == 2  # one balance UPDATE per account, not one per row
    for acc in (a, b):
        expected = conn.execute(
            """SELECT a.opening_balance + COALESCE(sum(t.amount) FILTER (WHERE t.status <> 'cancelled'), 0) AS s
                 FROM accounts a LEFT JOIN transactions t ON t.account_id = a.id
                WHERE a.id = %s GROUP BY a.opening_balance""",
            (acc,),
        ).fetchone()["s"]
        assert _balance(conn, acc) == expected
    assert conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"] == 10000
