-- The seed's 13 tables, with the decisions of ARCHITECTURE.md applied:
--  * every timestamp is TIMESTAMPTZ (decision 4);
--  * users.role holds only the platform role; family roles live in family_members (9);
--  * user_sessions.refresh_token holds a SHA-256 digest, never the token (5);
--  * accounts may be negative where that is real (credit cards, loans, overdrafts) (1);
--  * categories carry owners (6); goals have no CURRENT_DATE check (3);
--  * transactions are partitioned by month, so the key includes transaction_date (7).
-- Columns added to seed tables are nullable or defaulted (10).

CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email VARCHAR(255) UNIQUE NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    first_name VARCHAR(100),
    last_name VARCHAR(100),
    -- phone and date_of_birth stay in the table for readers of the seed schema but are
    -- kept NULL: the values live encrypted in phone_enc / date_of_birth_enc (decision 8).
    phone VARCHAR(20),
    date_of_birth DATE,
    timezone VARCHAR(50) DEFAULT 'UTC',
    locale VARCHAR(10) DEFAULT 'en-US',
    role VARCHAR(20) DEFAULT 'user' CHECK (role IN ('user', 'premium', 'admin')),
    status VARCHAR(20) DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'suspended', 'deleted')),
    email_verified BOOLEAN DEFAULT FALSE,
    phone_verified BOOLEAN DEFAULT FALSE,
    two_factor_enabled BOOLEAN DEFAULT FALSE,
    last_login_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),

    phone_enc BYTEA,
    phone_hash VARCHAR(64),
    date_of_birth_enc BYTEA,
    totp_secret_enc BYTEA,
    -- RFC 6238 §5.2: a code is accepted once; the last accepted time step is kept.
    totp_last_step BIGINT,
    password_changed_at TIMESTAMPTZ,
    deleted_at TIMESTAMPTZ,

    CONSTRAINT users_email_format CHECK (email ~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$')
);
-- Emails are case-insensitive: stored lower-cased and unique on lower().
CREATE UNIQUE INDEX idx_users_email_lower ON users (lower(email));
CREATE INDEX idx_users_status ON users(status);
CREATE INDEX idx_users_role ON users(role);
CREATE INDEX idx_users_created_at ON users(created_at);
CREATE TRIGGER update_users_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TABLE user_sessions (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    refresh_token VARCHAR(255) NOT NULL UNIQUE,  -- SHA-256 hex digest of the refresh token
    access_token_hash VARCHAR(255),
    device_info JSONB,
    ip_address INET,
    user_agent TEXT,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ DEFAULT NOW(),

    last_used_at TIMESTAMPTZ,
    revoked_reason VARCHAR(50),

    CONSTRAINT user_sessions_expires_at_future CHECK (expires_at > created_at)
);
CREATE INDEX idx_user_sessions_user_id ON user_sessions(user_id);
CREATE INDEX idx_user_sessions_expires_at ON user_sessions(expires_at);

CREATE TABLE family_groups (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name VARCHAR(100) NOT NULL,
    owner_id UUID NOT NULL REFERENCES users(id),
    description TEXT,
    settings JSONB DEFAULT '{}',
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW()
);
CREATE INDEX idx_family_groups_owner_id ON family_groups(owner_id);
CREATE TRIGGER update_family_groups_updated_at BEFORE UPDATE ON family_groups
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TABLE family_members (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    family_id UUID NOT NULL REFERENCES family_groups(id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role VARCHAR(20) DEFAULT 'member' CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    permissions JSONB DEFAULT '{}',
    joined_at TIMESTAMPTZ DEFAULT NOW(),

    UNIQUE(family_id, user_id)
);
CREATE INDEX idx_family_members_family_id ON family_members(family_id);
CREATE INDEX idx_family_members_user_id ON family_members(user_id);

CREATE TABLE accounts (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id UUID REFERENCES family_groups(id) ON DELETE CASCADE,
    name VARCHAR(100) NOT NULL,
    type VARCHAR(50) NOT NULL CHECK (type IN ('checking', 'savings', 'credit_card', 'investment', 'loan', 'other')),
    institution VARCHAR(100),
    account_number_hash VARCHAR(255),  -- HMAC-SHA-256 under LOOKUP_HASH_KEY, for lookups
    balance NUMERIC(15,2) DEFAULT 0.00,
    currency VARCHAR(3) DEFAULT 'USD',
    is_active BOOLEAN DEFAULT TRUE,
    plaid_account_id VARCHAR(255),
    last_sync_at TIMESTAMPTZ,
    settings JSONB DEFAULT '{}',
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),

    opening_balance NUMERIC(15,2) NOT NULL DEFAULT 0.00,
    account_number_enc BYTEA,
    account_number_last4 VARCHAR(4),
    -- Decision 1: savings and investment accounts cannot go below zero unless the
    -- account opts in; checking (overdraft), credit cards and loans may.
    allow_negative BOOLEAN NOT NULL DEFAULT FALSE,

    CONSTRAINT accounts_balance_non_negative CHECK (
        balance >= 0 OR allow_negative OR type NOT IN ('savings', 'investment')
    )
);
CREATE INDEX idx_accounts_user_id ON accounts(user_id);
CREATE INDEX idx_accounts_family_id ON accounts(family_id);
CREATE INDEX idx_accounts_type ON accounts(type);
CREATE INDEX idx_accounts_plaid_account_id ON accounts(plaid_account_id);
CREATE TRIGGER update_accounts_updated_at BEFORE UPDATE ON accounts
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TABLE categories (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name VARCHAR(100) NOT NULL,
    description TEXT,
    icon VARCHAR(50),
    color VARCHAR(7),
    parent_id UUID REFERENCES categories(id) ON DELETE CASCADE,
    is_default BOOLEAN DEFAULT FALSE,
    is_active BOOLEAN DEFAULT TRUE,
    sort_order INTEGER DEFAULT 0,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),

    -- Decision 6: system defaults have no owner; own categories carry user or family.
    user_id UUID REFERENCES users(id) ON DELETE CASCADE,
    family_id UUID REFERENCES family_groups(id) ON DELETE CASCADE,

    CONSTRAINT categories_color_format CHECK (color ~* '^#[0-9A-Fa-f]{6}$'),
    CONSTRAINT categories_owner CHECK (
        (is_default AND user_id IS NULL AND family_id IS NULL)
        OR (NOT is_default AND (user_id IS NOT NULL OR family_id IS NOT NULL))
    )
);
CREATE INDEX idx_categories_parent_id ON categories(parent_id);
CREATE INDEX idx_categories_is_default ON categories(is_default);
CREATE INDEX idx_categories_sort_order ON categories(sort_order);
CREATE INDEX idx_categories_user_id ON categories(user_id);
CREATE INDEX idx_categories_family_id ON categories(family_id);
CREATE UNIQUE INDEX idx_categories_default_name
    ON categories (COALESCE(parent_id, '00000000-0000-0000-0000-000000000000'::uuid), name)
    WHERE is_default;
CREATE TRIGGER update_categories_updated_at BEFORE UPDATE ON categories
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TABLE transactions (
    id UUID NOT NULL DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id UUID REFERENCES family_groups(id) ON DELETE CASCADE,
    account_id UUID NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    category_id UUID REFERENCES categories(id) ON DELETE SET NULL,

    amount NUMERIC(15,2) NOT NULL,
    currency VARCHAR(3) DEFAULT 'USD',
    description TEXT NOT NULL,
    merchant VARCHAR(255),
    location JSONB,

    transaction_date DATE NOT NULL,
    posted_date DATE,
    status VARCHAR(20) DEFAULT 'pending' CHECK (status IN ('pending', 'posted', 'cancelled', 'disputed')),

    categorization_source VARCHAR(20) DEFAULT 'manual' CHECK (categorization_source IN ('manual', 'ml', 'plaid', 'user_correction')),
    categorization_confidence NUMERIC(3,2) CHECK (categorization_confidence >= 0 AND categorization_confidence <= 1),

    tags TEXT[],
    notes TEXT,
    receipt_url VARCHAR(500),

    plaid_transaction_id VARCHAR(255),
    external_id VARCHAR(255),

    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),

    import_id UUID,

    PRIMARY KEY (id, transaction_date),
    CONSTRAINT transactions_amount_non_zero CHECK (amount != 0)
) PARTITION BY RANGE (transaction_date);

CREATE INDEX idx_transactions_user_id ON transactions(user_id);
CREATE INDEX idx_transactions_family_id ON transactions(family_id);
CREATE INDEX idx_transactions_account_id ON transactions(account_id);
CREATE INDEX idx_transactions_category_id ON transactions(category_id);
CREATE INDEX idx_transactions_transaction_date ON transactions(transaction_date);
CREATE INDEX idx_transactions_amount ON transactions(amount);
CREATE INDEX idx_transactions_status ON transactions(status);
CREATE INDEX idx_transactions_plaid_transaction_id ON transactions(plaid_transaction_id);
CREATE INDEX idx_transactions_external_id ON transactions(external_id);
-- Lookup by id alone (the API addresses transactions by id; partitions are pruned by date).
CREATE INDEX idx_transactions_id ON transactions(id);
CREATE TRIGGER update_transactions_updated_at BEFORE UPDATE ON transactions
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TABLE transactions_default PARTITION OF transactions DEFAULT;

CREATE TABLE budgets (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id UUID REFERENCES family_groups(id) ON DELETE CASCADE,
    name VARCHAR(100) NOT NULL,
    description TEXT,

    period_type VARCHAR(20) NOT NULL CHECK (period_type IN ('monthly', 'quarterly', 'yearly', 'custom')),
    start_date DATE NOT NULL,
    end_date DATE,

    total_amount NUMERIC(15,2) NOT NULL,
    currency VARCHAR(3) DEFAULT 'USD',

    is_active BOOLEAN DEFAULT TRUE,
    settings JSONB DEFAULT '{}',

    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),

    CONSTRAINT budgets_total_amount_positive CHECK (total_amount > 0),
    CONSTRAINT budgets_end_date_after_start CHECK (end_date IS NULL OR end_date > start_date),
    CONSTRAINT budgets_custom_needs_end CHECK (period_type <> 'custom' OR end_date IS NOT NULL)
);
CREATE INDEX idx_budgets_user_id ON budgets(user_id);
CREATE INDEX idx_budgets_family_id ON budgets(family_id);
CREATE INDEX idx_budgets_period_type ON budgets(period_type);
CREATE INDEX idx_budgets_start_date ON budgets(start_date);
CREATE TRIGGER update_budgets_updated_at BEFORE UPDATE ON budgets
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TABLE budget_categories (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    budget_id UUID NOT NULL REFERENCES budgets(id) ON DELETE CASCADE,
    category_id UUID NOT NULL REFERENCES categories(id) ON DELETE CASCADE,

    allocated_amount NUMERIC(15,2) NOT NULL,
    spent_amount NUMERIC(15,2) DEFAULT 0.00,

    alert_threshold NUMERIC(3,2) DEFAULT 0.80 CHECK (alert_threshold >= 0 AND alert_threshold <= 1),
    is_active BOOLEAN DEFAULT TRUE,

    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),

    UNIQUE(budget_id, category_id),
    CONSTRAINT budget_categories_allocated_positive CHECK (allocated_amount > 0)
);
CREATE INDEX idx_budget_categories_budget_id ON budget_categories(budget_id);
CREATE INDEX idx_budget_categories_category_id ON budget_categories(category_id);
CREATE TRIGGER update_budget_categories_updated_at BEFORE UPDATE ON budget_categories
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TABLE goals (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id UUID REFERENCES family_groups(id) ON DELETE CASCADE,

    name VARCHAR(100) NOT NULL,
    description TEXT,
    goal_type VARCHAR(50) NOT NULL CHECK (goal_type IN ('savings', 'debt_payoff', 'investment', 'emergency_fund', 'vacation', 'purchase', 'other')),

    target_amount NUMERIC(15,2) NOT NULL,
    current_amount NUMERIC(15,2) DEFAULT 0.00,
    currency VARCHAR(3) DEFAULT 'USD',

    -- Decision 3: "target_date >= CURRENT_DATE" is validated by the service on create
    -- and change; as a CHECK it would break every later update of an old goal.
    target_date DATE,
    start_date DATE DEFAULT CURRENT_DATE,

    icon VARCHAR(50),
    color VARCHAR(7),

    is_active BOOLEAN DEFAULT TRUE,
    settings JSONB DEFAULT '{}',

    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),

    CONSTRAINT goals_target_amount_positive CHECK (target_amount > 0),
    CONSTRAINT goals_current_amount_non_negative CHECK (current_amount >= 0)
);
CREATE INDEX idx_goals_user_id ON goals(user_id);
CREATE INDEX idx_goals_family_id ON goals(family_id);
CREATE INDEX idx_goals_goal_type ON goals(goal_type);
CREATE INDEX idx_goals_target_date ON goals(target_date);
CREATE TRIGGER update_goals_updated_at BEFORE UPDATE ON goals
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TABLE notifications (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,

    type VARCHAR(50) NOT NULL CHECK (type IN ('budget_alert', 'goal_milestone', 'unusual_spending', 'bill_reminder', 'system', 'security')),
    title VARCHAR(255) NOT NULL,
    message TEXT NOT NULL,

    data JSONB DEFAULT '{}',
    priority VARCHAR(20) DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),

    read_at TIMESTAMPTZ,
    sent_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,

    created_at TIMESTAMPTZ DEFAULT NOW(),

    -- Once-only notifications (budget level per period, goal milestone, flagged
    -- transaction, bill due date) carry a key; the unique index makes two racing
    -- producers create one row, not two.
    dedupe_key VARCHAR(255),

    CONSTRAINT notifications_expires_at_future CHECK (expires_at IS NULL OR expires_at > created_at)
);
CREATE INDEX idx_notifications_user_id ON notifications(user_id);
CREATE INDEX idx_notifications_type ON notifications(type);
CREATE INDEX idx_notifications_read_at ON notifications(read_at);
CREATE INDEX idx_notifications_created_at ON notifications(created_at);
CREATE UNIQUE INDEX idx_notifications_dedupe_key ON notifications(user_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX idx_notifications_user_unread ON notifications(user_id, created_at DESC) WHERE read_at IS NULL;

CREATE TABLE audit_logs (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID REFERENCES users(id) ON DELETE SET NULL,
    session_id UUID REFERENCES user_sessions(id) ON DELETE SET NULL,

    action VARCHAR(100) NOT NULL,
    resource_type VARCHAR(50) NOT NULL,
    resource_id UUID,
    resource_data JSONB,

    ip_address INET,
    user_agent TEXT,

    success BOOLEAN NOT NULL,
    error_message TEXT,

    created_at TIMESTAMPTZ DEFAULT NOW()
);
CREATE INDEX idx_audit_logs_user_id ON audit_logs(user_id);
CREATE INDEX idx_audit_logs_action ON audit_logs(action);
CREATE INDEX idx_audit_logs_resource_type ON audit_logs(resource_type);
CREATE INDEX idx_audit_logs_created_at ON audit_logs(created_at);

CREATE TABLE data_sync_logs (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    account_id UUID NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,

    sync_type VARCHAR(50) NOT NULL CHECK (sync_type IN ('plaid', 'manual', 'csv_import')),
    status VARCHAR(20) NOT NULL CHECK (status IN ('pending', 'in_progress', 'completed', 'failed')),

    transactions_added INTEGER DEFAULT 0,
    transactions_updated INTEGER DEFAULT 0,
    transactions_deleted INTEGER DEFAULT 0,

    started_at TIMESTAMPTZ NOT NULL,
    completed_at TIMESTAMPTZ,
    error_message TEXT,

    metadata JSONB DEFAULT '{}',

    created_at TIMESTAMPTZ DEFAULT NOW(),

    file_key TEXT,
    duplicates_skipped INTEGER DEFAULT 0,
    errors JSONB DEFAULT '[]'
);
CREATE INDEX idx_data_sync_logs_user_id ON data_sync_logs(user_id);
CREATE INDEX idx_data_sync_logs_account_id ON data_sync_logs(account_id);
CREATE INDEX idx_data_sync_logs_status ON data_sync_logs(status);
CREATE INDEX idx_data_sync_logs_started_at ON data_sync_logs(started_at);
