-- GET /transactions, tuned with bench/ledger.py (1,000,000 rows, BENCHMARKS.md "Ledger").
--
-- The text filter q searches description and merchant: one trigram index over both
-- (one bitmap scan per monthly partition instead of two) replaces the two of 0201. The
-- query keeps the exact per-column test as a recheck, so text spanning the boundary
-- between the two columns never matches.
DROP INDEX IF EXISTS idx_transactions_description_trgm;
DROP INDEX IF EXISTS idx_transactions_merchant_trgm;
CREATE INDEX idx_transactions_text_trgm
    ON transactions USING gin ((description || ' ' || COALESCE(merchant, '')) gin_trgm_ops);

-- An account's page (the account screen): ordered by the page order within the account.
CREATE INDEX idx_transactions_account_page
    ON transactions (account_id, transaction_date DESC, created_at DESC, id DESC);
