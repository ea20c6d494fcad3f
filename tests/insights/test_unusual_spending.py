from datetime import date, timedelta

from chalicelib.insights.unusual import run_unusual_spending
from tests.factories import make_transaction

TODAY = date(2026, 3, 20)


def _history(conn, owner, amounts, *, merchant="Corner Cafe", category=None, start_days_ago=60):
    for i, amount in enumerate(amounts):
        make_transaction(
            conn,
            owner["id"],
            owner["account"],
            amount,
            day=TODAY - timedelta(days=start_days_ago - i),
            merchant=merchant,
            category_id=category,
        )


def _flags(conn):
    return conn.execute(
        "SELECT message, data, dedupe_key FROM notifications WHERE type = 'unusual_spending'"
    ).fetchall()


def test_a_far_outlier_at_the_same_merchant_is_flagged_once_with_merchant_amount_and_typical(owner, conn):
    _history(conn, owner, ["-4.50", "-4.80", "-5.10", "-4.20", "-4.90", "-5.00"])
    tid = make_transaction(conn, owner["id"], owner["account"], "-48.00", day=TODAY, merchant="corner cafe ")
    report = run_unusual_spending(today=TODAY)
    assert report.flagged == 1
    (flag,) = _flags(conn)
    assert flag["data"]["transaction_id"] == str(tid)
    assert "48.00" in flag["message"] and "4.85" in flag["message"] and "corner cafe" in flag["message"].lower()
    assert run_unusual_spending(today=TODAY).flagged == 0


def test_an_ordinary_amount_is_not_flagged(owner, conn):
    _history(conn, owner, ["-4.50", "-4.80", "-5.10", "-4.20", "-4.90", "-5.00"])
    make_transaction(conn, owner["id"], owner["account"], "-5.60", day=TODAY, merchant="Corner Cafe")
    assert run_unusual_spending(today=TODAY).flagged == 0


def test_fewer_than_five_earlier_transactions_is_not_enough_history(owner, conn):
    _history(conn, owner, ["-4.50", "-4.80", "-5.10", "-4.20"])
    make_transaction(conn, owner["id"], owner["account"], "-480.00", day=TODAY, merchant="Corner Cafe")
    assert run_unusual_spending(today=TODAY).flagged == 0


def test_history_older_than_90_days_or_cancelled_does_not_count(owner, conn):
    _history(conn, owner, ["-5.00"] * 5, start_days_ago=120)
    _history(conn, owner, ["-5.00"] * 5, start_days_ago=30)
    conn.execute(
        "UPDATE transactions SET status = 'cancelled' WHERE transaction_date > %s", (TODAY - timedelta(days=40),)
    )
    make_transaction(conn, owner["id"], owner["account"], "-480.00", day=TODAY, merchant="Corner Cafe")
    assert run_unusual_spending(today=TODAY).flagged == 0


def test_no_spread_still_flags_beyond_three_times_the_median(owner, conn):
    _history(conn, owner, ["-10.00"] * 6, merchant="Gym")
    make_transaction(conn, owner["id"], owner["account"], "-30.00", day=TODAY, merchant="Gym")
    assert run_unusual_spending(today=TODAY).flagged == 0  # exactly 3x is not beyond
    make_transaction(conn, owner["id"], owner["account"], "-30.01", day=TODAY, merchant="Gym")
    assert run_unusual_spending(today=TODAY).flagged == 1


def test_without_a_merchant_the_category_is_the_history(owner, conn, cats):
    _history(conn, owner, ["-50", "-60", "-55", "-52", "-58"], merchant=None, category=cats["groceries"])
    make_transaction(conn, owner["id"], owner["account"], "-400.00", day=TODAY, category_id=cats["groceries"])
    make_transaction(conn, owner["id"], owner["account"], "-400.00", day=TODAY, category_id=cats["shopping"])
    assert run_unusual_spending(today=TODAY).flagged == 1
    (flag,) = _flags(conn)
    assert "Groceries" in flag["message"] and "55.00" in flag["message"]


def test_dry_run_writes_nothing_and_other_users_history_is_not_mine(owner, conn, make_user):
    from tests.factories import make_account

    other = make_user()
    other_account = make_account(conn, other["id"])
    for i in range(6):
        make_transaction(conn, other["id"], other_account, "-5.00", day=TODAY - timedelta(days=10 + i), merchant="Cafe")
    make_transaction(conn, owner["id"], owner["account"], "-50.00", day=TODAY, merchant="Cafe")
    assert run_unusual_spending(today=TODAY).flagged == 0
    _history(conn, owner, ["-5.00"] * 5, merchant="Cafe")
    report = run_unusual_spending(today=TODAY, dry_run=True)
    assert report.flagged == 1 and _flags(conn) == []
