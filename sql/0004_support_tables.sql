-- Tables the design needs beyond the seed.

-- Changes to search-indexed rows, written in the same database transaction as the
-- change and drained in id order by the search-sync schedule. The id doubles as the
-- external version of the document in the index.
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    aggregate_type VARCHAR(50) NOT NULL,   -- transaction, category
    aggregate_id UUID NOT NULL,
    operation VARCHAR(10) NOT NULL CHECK (operation IN ('upsert', 'delete')),
    payload JSONB,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    parked_at TIMESTAMPTZ,
    processed_at TIMESTAMPTZ
);
CREATE INDEX idx_outbox_pending ON outbox(id) WHERE processed_at IS NULL AND parked_at IS NULL;
CREATE INDEX idx_outbox_aggregate ON outbox(aggregate_type, aggregate_id);

-- Transactions older than the retention window, moved here partition by partition.
CREATE TABLE transactions_archive (LIKE transactions INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (transaction_date);
ALTER TABLE transactions_archive ADD PRIMARY KEY (id, transaction_date);
CREATE INDEX idx_transactions_archive_account ON transactions_archive(account_id, transaction_date);
CREATE INDEX idx_transactions_archive_user ON transactions_archive(user_id);
CREATE TABLE transactions_archive_default PARTITION OF transactions_archive DEFAULT;

-- A user's or family's own categorization rules (the import and create paths apply
-- them before learned merchants and built-in keywords).
CREATE TABLE categorization_rules (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id UUID REFERENCES family_groups(id) ON DELETE CASCADE,
    category_id UUID NOT NULL REFERENCES categories(id) ON DELETE CASCADE,
    field VARCHAR(20) NOT NULL DEFAULT 'any' CHECK (field IN ('description', 'merchant', 'any')),
    match_type VARCHAR(20) NOT NULL DEFAULT 'contains' CHECK (match_type IN ('contains', 'equals', 'starts_with', 'regex')),
    pattern VARCHAR(255) NOT NULL,
    priority INTEGER NOT NULL DEFAULT 100,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_categorization_rules_user ON categorization_rules(user_id);
CREATE INDEX idx_categorization_rules_family ON categorization_rules(family_id);
CREATE TRIGGER update_categorization_rules_updated_at BEFORE UPDATE ON categorization_rules
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- Idempotency-Key records (API.md "Retried writes"): written in the same transaction
-- as the effect, so a replay exists exactly when the effect does.
CREATE TABLE idempotency_keys (
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    idempotency_key VARCHAR(255) NOT NULL,
    method VARCHAR(10) NOT NULL,
    path TEXT NOT NULL,
    request_hash VARCHAR(64) NOT NULL,
    status_code INTEGER NOT NULL,
    response_body JSONB,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    expires_at TIMESTAMPTZ NOT NULL DEFAULT NOW() + INTERVAL '48 hours',
    PRIMARY KEY (user_id, idempotency_key)
);
CREATE INDEX idx_idempotency_keys_expires_at ON idempotency_keys(expires_at);

-- Event deliveries already processed (S3 object bucket+key+eTag, scheduled run ids):
-- the unique key makes a re-delivered event a no-op.
CREATE TABLE processed_events (
    event_key VARCHAR(1024) PRIMARY KEY,
    handler VARCHAR(100) NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    result JSONB
);
