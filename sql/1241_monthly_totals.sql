-- Monthly roll-up of `transactions` for analytics (issue 17).
--
-- Spending and cash flow over a year aggregated ~300k rows per call at 1M rows. The same
-- answer for whole months is a sum over this table: per owner (user_id, family_id, the
-- two columns Access.visible() reads), account, category, month and sign, the sum and
-- count of the live rows that count in analytics (not cancelled). Partial months at the
-- edges of a range are still read from `transactions` (chalicelib/analytics/totals_repo.py).
--
-- Kept exact by statement-level triggers with transition tables, like the balances
-- (sql/0003): one grouped upsert per statement, whatever its row count; rows that reach a
-- count of zero are removed. Archiving detaches whole months without DML, so
-- chalicelib/retention/archive.py drops the archived months' rows in the same unit
-- (transaction_monthly_totals_forget). A restore loads this table as it was dumped.
--
-- amount is NUMERIC(20, 2): sums of NUMERIC(15, 2) keep two decimals and have room for
-- 100,000 rows at the column's largest value in one month and category.
--
-- Rows are upserted in key order so two statements adding to the same rows cannot
-- deadlock; they touch rows of the accounts whose balances they already lock.

CREATE TABLE transaction_monthly_totals (
    user_id UUID NOT NULL,
    family_id UUID,
    account_id UUID NOT NULL,
    category_id UUID,
    month DATE NOT NULL,
    inflow BOOLEAN NOT NULL,
    amount NUMERIC(20, 2) NOT NULL,
    n BIGINT NOT NULL,
    CONSTRAINT transaction_monthly_totals_key
        UNIQUE NULLS NOT DISTINCT (user_id, family_id, month, account_id, category_id, inflow)
);
-- Family scopes, and the clean-up of rows whose count fell to zero.
CREATE INDEX idx_transaction_monthly_totals_family ON transaction_monthly_totals (family_id, month)
    WHERE family_id IS NOT NULL;
CREATE INDEX idx_transaction_monthly_totals_empty ON transaction_monthly_totals (n) WHERE n = 0;

CREATE OR REPLACE FUNCTION transaction_monthly_totals_on_insert()
RETURNS TRIGGER AS $$
BEGIN
    INSERT INTO transaction_monthly_totals AS m (user_id, family_id, account_id, category_id, month, inflow, amount, n)
    SELECT user_id, family_id, account_id, category_id, date_trunc('month', transaction_date)::date, amount > 0,
           sum(amount), count(*)
      FROM new_rows WHERE status <> 'cancelled'
     GROUP BY 1, 2, 3, 4, 5, 6
     ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT ON CONSTRAINT transaction_monthly_totals_key
    DO UPDATE SET amount = m.amount + EXCLUDED.amount, n = m.n + EXCLUDED.n;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION transaction_monthly_totals_on_update()
RETURNS TRIGGER AS $$
BEGIN
    INSERT INTO transaction_monthly_totals AS m (user_id, family_id, account_id, category_id, month, inflow, amount, n)
    SELECT user_id, family_id, account_id, category_id, month, inflow, sum(amount), sum(n)
      FROM (SELECT user_id, family_id, account_id, category_id, date_trunc('month', transaction_date)::date AS month,
                   amount > 0 AS inflow, amount, 1 AS n
              FROM new_rows WHERE status <> 'cancelled'
            UNION ALL
            SELECT user_id, family_id, account_id, category_id, date_trunc('month', transaction_date)::date,
                   amount > 0, -amount, -1
              FROM old_rows WHERE status <> 'cancelled') d
     GROUP BY 1, 2, 3, 4, 5, 6
    HAVING sum(n) <> 0 OR sum(amount) <> 0
     ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT ON CONSTRAINT transaction_monthly_totals_key
    DO UPDATE SET amount = m.amount + EXCLUDED.amount, n = m.n + EXCLUDED.n;
    DELETE FROM transaction_monthly_totals WHERE n = 0;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION transaction_monthly_totals_on_delete()
RETURNS TRIGGER AS $$
BEGIN
    INSERT INTO transaction_monthly_totals AS m (user_id, family_id, account_id, category_id, month, inflow, amount, n)
    SELECT user_id, family_id, account_id, category_id, date_trunc('month', transaction_date)::date, amount > 0,
           -sum(amount), -count(*)
      FROM old_rows WHERE status <> 'cancelled'
     GROUP BY 1, 2, 3, 4, 5, 6
     ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT ON CONSTRAINT transaction_monthly_totals_key
    DO UPDATE SET amount = m.amount + EXCLUDED.amount, n = m.n + EXCLUDED.n;
    DELETE FROM transaction_monthly_totals WHERE n = 0;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION transaction_monthly_totals_on_truncate()
RETURNS TRIGGER AS $$
BEGIN
    DELETE FROM transaction_monthly_totals;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- Months [from_month, to_month) left `transactions` as a whole (archived partitions).
CREATE OR REPLACE FUNCTION transaction_monthly_totals_forget(from_month DATE, to_month DATE)
RETURNS VOID AS $$
    DELETE FROM transaction_monthly_totals WHERE month >= from_month AND month < to_month;
$$ LANGUAGE sql;

-- The table rebuilt from `transactions` (a restore of a dump made before this migration).
CREATE OR REPLACE FUNCTION transaction_monthly_totals_rebuild()
RETURNS VOID AS $$
    DELETE FROM transaction_monthly_totals;
    INSERT INTO transaction_monthly_totals (user_id, family_id, account_id, category_id, month, inflow, amount, n)
    SELECT user_id, family_id, account_id, category_id, date_trunc('month', transaction_date)::date, amount > 0,
           sum(amount), count(*)
      FROM transactions WHERE status <> 'cancelled'
     GROUP BY 1, 2, 3, 4, 5, 6;
$$ LANGUAGE sql;

CREATE TRIGGER transactions_monthly_totals_insert
    AFTER INSERT ON transactions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION transaction_monthly_totals_on_insert();
CREATE TRIGGER transactions_monthly_totals_update
    AFTER UPDATE ON transactions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION transaction_monthly_totals_on_update();
CREATE TRIGGER transactions_monthly_totals_delete
    AFTER DELETE ON transactions REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION transaction_monthly_totals_on_delete();
CREATE TRIGGER transactions_monthly_totals_truncate
    AFTER TRUNCATE ON transactions
    FOR EACH STATEMENT EXECUTE FUNCTION transaction_monthly_totals_on_truncate();

SELECT transaction_monthly_totals_rebuild();
ANALYZE transaction_monthly_totals;
