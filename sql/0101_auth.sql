-- Auth: refresh-token rotation, one-time email tokens, TOTP recovery codes.
--
-- Session model: one user_sessions row per sign-in. Its refresh_token column holds the
-- SHA-256 digest of the one live refresh token; each rotation moves the old digest into
-- spent_refresh_tokens. A spent digest presented again identifies the session (the whole
-- chain descended from that sign-in), which is then revoked.

ALTER TABLE user_sessions ADD COLUMN device_hash VARCHAR(64);
CREATE INDEX idx_user_sessions_user_device ON user_sessions(user_id, device_hash);

CREATE TABLE spent_refresh_tokens (
    token_digest VARCHAR(64) PRIMARY KEY,
    session_id UUID NOT NULL REFERENCES user_sessions(id) ON DELETE CASCADE,
    spent_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_spent_refresh_tokens_session ON spent_refresh_tokens(session_id);

-- Email verification and password reset: single use, expiring, stored as SHA-256 digests.
CREATE TABLE auth_email_tokens (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose VARCHAR(20) NOT NULL CHECK (purpose IN ('verify_email', 'password_reset')),
    token_digest VARCHAR(64) NOT NULL UNIQUE,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_auth_email_tokens_user ON auth_email_tokens(user_id, purpose);

-- Ten per user, shown once at 2FA enable; kept as keyed hashes (HMAC with the lookup key),
-- so a copy of the table alone does not allow guessing them offline.
CREATE TABLE totp_recovery_codes (
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash VARCHAR(64) NOT NULL,
    used_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (user_id, code_hash)
);
