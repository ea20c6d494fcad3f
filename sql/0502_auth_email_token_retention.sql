-- retention deletes email-verification and password-reset tokens past their expiry in
-- batches ordered by expires_at; this index is the range those batches walk.
CREATE INDEX IF NOT EXISTS idx_auth_email_tokens_expires ON auth_email_tokens(expires_at);
