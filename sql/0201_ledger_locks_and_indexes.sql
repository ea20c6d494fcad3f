-- Ledger (issue 4).
--
-- 1. Concurrent writers to one account deadlocked: each INSERT's foreign-key check holds
--    FOR KEY SHARE on the account row, then the statement trigger asked for FOR UPDATE,
--    which conflicts with the other writer's KEY SHARE (and theirs with ours). The balance
--    is not a key column: FOR NO KEY UPDATE serialises the balance updates and does not
--    conflict with foreign-key checks. Same function, same deltas.
CREATE OR REPLACE FUNCTION apply_balance_deltas(deltas JSONB)
RETURNS VOID AS $$
BEGIN
    PERFORM 1 FROM accounts
     WHERE id IN (SELECT (d->>'account_id')::uuid FROM jsonb_array_elements(deltas) d)
     ORDER BY id FOR NO KEY UPDATE;
    UPDATE accounts a
       SET balance = a.balance + (d->>'delta')::numeric
      FROM jsonb_array_elements(deltas) d
     WHERE a.id = (d->>'account_id')::uuid;
END;
$$ LANGUAGE plpgsql;

-- 2. GET /transactions pages: newest first per visibility part (a person's own personal
--    rows; one family's rows), so a page is one ordered index scan per part.
CREATE INDEX idx_transactions_personal_page
    ON transactions (user_id, transaction_date DESC, created_at DESC, id DESC) WHERE family_id IS NULL;
CREATE INDEX idx_transactions_family_page
    ON transactions (family_id, transaction_date DESC, created_at DESC, id DESC) WHERE family_id IS NOT NULL;

-- 3. The text filter q (case-insensitive substring of description or merchant).
CREATE INDEX idx_transactions_description_trgm ON transactions USING gin (description gin_trgm_ops);
CREATE INDEX idx_transactions_merchant_trgm ON transactions USING gin (merchant gin_trgm_ops);

-- 4. The same pages over the archive (include_archived=true).
CREATE INDEX idx_transactions_archive_personal_page
    ON transactions_archive (user_id, transaction_date DESC, created_at DESC, id DESC) WHERE family_id IS NULL;
CREATE INDEX idx_transactions_archive_family_page
    ON transactions_archive (family_id, transaction_date DESC, created_at DESC, id DESC) WHERE family_id IS NOT NULL;
CREATE INDEX idx_transactions_archive_id ON transactions_archive (id);
