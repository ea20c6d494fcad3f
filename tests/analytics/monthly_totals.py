"""The invariant of sql/1241: transaction_monthly_totals equals the aggregate of the live
non-cancelled rows, row for row. Checked after every test (tests/conftest.py) and in
tests/analytics/test_monthly_totals.py."""

_RAW = """SELECT user_id, family_id, account_id, category_id, date_trunc('month', transaction_date)::date AS month,
                 amount > 0 AS inflow, sum(amount) AS amount, count(*) AS n
            FROM transactions WHERE status <> 'cancelled' GROUP BY 1, 2, 3, 4, 5, 6"""
_TOTALS = "SELECT user_id, family_id, account_id, category_id, month, inflow, amount, n FROM transaction_monthly_totals"
DRIFT = f"""SELECT 'missing' AS what, * FROM ({_RAW} EXCEPT ALL {_TOTALS}) a
            UNION ALL
            SELECT 'extra', * FROM ({_TOTALS} EXCEPT ALL {_RAW}) b"""


def drift(conn) -> list:
    """Rows where the roll-up and the raw aggregate differ (empty when exact)."""
    return conn.execute(DRIFT).fetchall()
