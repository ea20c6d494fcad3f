-- Statement imports (API.md "Imports") and auto-categorization.

-- A file dropped under imports/{user_id}/{account_id}/... for an account that does not
-- exist, or that its user may not see, is still recorded as a failed import for that
-- user. The seed's NOT NULL + FK cannot hold such a row without pointing at someone
-- else's account (or none), so the column becomes nullable for failed rows only; the
-- account id the file named is kept in metadata->>'account_id' and rendered from there.
ALTER TABLE data_sync_logs ALTER COLUMN account_id DROP NOT NULL;
ALTER TABLE data_sync_logs ADD CONSTRAINT data_sync_logs_account_or_failed
    CHECK (account_id IS NOT NULL OR status = 'failed');
-- GET /imports: the caller's imports, newest first, keyset-paginated.
CREATE INDEX idx_data_sync_logs_user_created ON data_sync_logs (user_id, created_at DESC, id DESC);

-- The column mapping saved per account for CSV layouts that detection cannot read.
CREATE TABLE import_mappings (
    account_id UUID PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    mapping JSONB NOT NULL,
    updated_by UUID REFERENCES users(id) ON DELETE SET NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- The description part of the duplicate fingerprint (account, date, amount, description):
-- case, punctuation and spacing do not make two bank lines different.
CREATE OR REPLACE FUNCTION import_description_key(description TEXT)
RETURNS TEXT AS $$
    SELECT btrim(regexp_replace(lower(description), '[^[:alnum:]]+', ' ', 'g'));
$$ LANGUAGE sql IMMUTABLE PARALLEL SAFE;

-- What learned categorization matches on: the first two meaningful words of the merchant
-- (or description), without card-network noise, store numbers and dates, so that
-- "POS 4411 STARBUCKS #123 SEATTLE" and "Starbucks 998 Seattle WA" teach each other.
CREATE OR REPLACE FUNCTION categorization_merchant_key(label TEXT)
RETURNS TEXT AS $$
    SELECT NULLIF(string_agg(tok, ' ' ORDER BY ord), '')
      FROM (SELECT tok, ord
              FROM unnest(regexp_split_to_array(
                       btrim(regexp_replace(lower(coalesce(label, '')), '[^[:alpha:]]+', ' ', 'g')), ' '))
                   WITH ORDINALITY AS u(tok, ord)
             WHERE length(tok) >= 2
               AND tok <> ALL (ARRAY['pos', 'card', 'purchase', 'debit', 'credit', 'visa', 'mastercard', 'ach',
                                     'sq', 'tst', 'pp', 'the', 'www', 'com', 'recurring', 'payment', 'online',
                                     'checkcard', 'dbt', 'crd', 'ec', 'sepa', 'pmt', 'kartenzahlung',
                                     'lastschrift', 'paypal', 'inc', 'ltd', 'llc', 'gmbh'])
             ORDER BY ord
             LIMIT 2) words;
$$ LANGUAGE sql IMMUTABLE PARALLEL SAFE;

-- Duplicate detection reads an account's rows by external id and by (date, amount).
CREATE INDEX idx_transactions_account_external ON transactions (account_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX idx_transactions_account_date_amount ON transactions (account_id, transaction_date, amount);
