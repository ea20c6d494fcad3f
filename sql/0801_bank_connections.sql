-- Bank connections through an aggregator (Plaid first; API.md "Bank connections").
--
-- One row per linked item. The access token is encrypted (AES-256-GCM, context
-- "bank_connections.access_token", decision 8) and wiped when the connection is removed
-- or revoked; the row, its accounts and their history stay.
CREATE TABLE bank_connections (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id UUID REFERENCES family_groups(id) ON DELETE CASCADE,
    provider VARCHAR(20) NOT NULL DEFAULT 'plaid' CHECK (provider IN ('plaid')),
    item_id VARCHAR(255) NOT NULL,
    access_token_enc BYTEA,
    institution_id VARCHAR(100),
    institution_name VARCHAR(255),
    status VARCHAR(20) NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'login_required', 'error', 'revoked')),
    error_code VARCHAR(100),
    -- The last transactions/sync cursor committed together with its page: a crashed or
    -- retried run continues from here, never books a page twice nor skips one.
    sync_cursor TEXT,
    last_sync_at TIMESTAMPTZ,
    last_webhook_at TIMESTAMPTZ,
    -- RATE_LIMIT_EXCEEDED backs the schedule off until then; failures counts the streak.
    next_sync_after TIMESTAMPTZ,
    sync_failures INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    removed_at TIMESTAMPTZ,
    UNIQUE (provider, item_id)
);
CREATE INDEX idx_bank_connections_user_id ON bank_connections(user_id);
CREATE INDEX idx_bank_connections_family_id ON bank_connections(family_id);
CREATE TRIGGER update_bank_connections_updated_at BEFORE UPDATE ON bank_connections
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- A linked account is an ordinary account with plaid_account_id (the seed's column) and
-- the connection it came through.
ALTER TABLE accounts ADD COLUMN bank_connection_id UUID REFERENCES bank_connections(id) ON DELETE SET NULL;
CREATE UNIQUE INDEX idx_accounts_connection_plaid_account
    ON accounts (bank_connection_id, plaid_account_id) WHERE bank_connection_id IS NOT NULL;

-- Sync pages find transactions by Plaid's id within the connection's accounts. The id
-- cannot be unique on the partitioned table (the key must include transaction_date,
-- which a modified transaction may change); the page's upsert keeps it single.
CREATE INDEX idx_transactions_account_plaid_id ON transactions (account_id, plaid_transaction_id)
    WHERE plaid_transaction_id IS NOT NULL;
