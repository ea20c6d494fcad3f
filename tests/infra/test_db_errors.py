"""Constraint violations leave the database as domain errors in one place (infra/db_errors.py):
through any statement or COPY of the pool's connections; unnamed constraints stay psycopg's."""

import psycopg
import pytest

from chalicelib.errors import AmountOutOfRange, BalanceBelowZero
from chalicelib.infra import db
from tests.factories import make_account


def test_a_savings_account_below_zero_is_the_domain_error(make_user, conn, services):
    user = make_user()
    savings = make_account(conn, user["id"], type="savings", opening_balance="10.00")
    with pytest.raises(BalanceBelowZero) as raised, db.transaction() as tx:
        tx.execute("UPDATE accounts SET balance = -1 WHERE id = %s", (savings,))
    assert raised.value.status == 409 and "below zero" in raised.value.message
    assert isinstance(raised.value.__cause__, psycopg.errors.CheckViolation)  # kept for the log
    assert conn.execute("SELECT balance FROM accounts WHERE id = %s", (savings,)).fetchone()["balance"] == 10


def test_a_copy_that_breaks_the_rule_is_the_domain_error_too(make_user, services):
    user = make_user()
    statement = "COPY accounts (user_id, name, type, opening_balance) FROM STDIN"
    with pytest.raises(BalanceBelowZero), db.transaction() as tx, tx.cursor().copy(statement) as copy:
        copy.write_row((user["id"], "Savings", "savings", "-5.00"))


def test_a_constraint_that_means_nothing_to_a_caller_stays_a_database_error(make_user, conn, services):
    user = make_user()
    account = make_account(conn, user["id"])
    with pytest.raises(psycopg.errors.NotNullViolation), db.transaction() as tx:
        tx.execute("UPDATE accounts SET name = NULL WHERE id = %s", (account,))


def test_a_balance_pushed_past_numeric_15_2_is_a_conflict_not_a_crash(make_user, conn, services):
    """Regression (fuzz): PATCH /accounts with opening_balance 9999999999999.98 on an account
    holding money overflowed the balance in its trigger and answered 500."""
    user = make_user()
    account = make_account(conn, user["id"], opening_balance="100.00")
    with pytest.raises(AmountOutOfRange) as raised, db.transaction() as tx:
        tx.execute("UPDATE accounts SET balance = balance + 9999999999999.98 WHERE id = %s", (account,))
    assert raised.value.status == 409
    assert conn.execute("SELECT balance FROM accounts WHERE id = %s", (account,)).fetchone()["balance"] == 100
