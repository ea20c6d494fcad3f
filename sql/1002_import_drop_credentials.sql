-- Issue 16, item 1: storage credentials issued to a user's sync tool (POST
-- /imports/credentials, STS AssumeRole confined to imports/{user_id}/). The S3 handler
-- looks the writer of a dropped object up here: a file is imported only when the user it
-- names is the one the writer's credentials were issued to.
CREATE TABLE import_drop_credentials (
    access_key_id VARCHAR(128) PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    account_id UUID REFERENCES accounts(id) ON DELETE CASCADE,
    role_session_name VARCHAR(64) NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_import_drop_credentials_session ON import_drop_credentials (role_session_name);
CREATE INDEX idx_import_drop_credentials_user ON import_drop_credentials (user_id);
