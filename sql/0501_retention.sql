-- Retention, partitions, backups and erasure (issue 7).
--
-- 1. The archive gets exactly the indexes and foreign keys a detached monthly partition of
--    `transactions` already carries. ATTACH PARTITION then adopts them instead of building
--    anything, so moving a month stays a catalogue change. (account_id, transaction_date)
--    becomes (account_id, transaction_date, amount): the same leading columns serve the same
--    reads, and it is the shape of idx_transactions_account_date_amount.
DROP INDEX IF EXISTS idx_transactions_archive_account;
CREATE INDEX idx_transactions_archive_account_date_amount
    ON transactions_archive (account_id, transaction_date, amount);
CREATE INDEX idx_transactions_archive_transaction_date ON transactions_archive (transaction_date);
CREATE INDEX idx_transactions_archive_category_id ON transactions_archive (category_id);

-- Archived rows belong to the same people and accounts as live ones: deleting a user or an
-- account removes its archived rows too (and a category's deletion clears it), exactly as
-- for `transactions`. Same actions as the live table's keys, so a detached partition's own
-- keys are adopted on ATTACH without re-validating.
ALTER TABLE transactions_archive
    ADD CONSTRAINT transactions_archive_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
    ADD CONSTRAINT transactions_archive_family_id_fkey
        FOREIGN KEY (family_id) REFERENCES family_groups(id) ON DELETE CASCADE,
    ADD CONSTRAINT transactions_archive_account_id_fkey
        FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
    ADD CONSTRAINT transactions_archive_category_id_fkey
        FOREIGN KEY (category_id) REFERENCES categories(id) ON DELETE SET NULL;

-- 2. Retention deletes by these columns in small batches; each batch must be an index range.
CREATE INDEX IF NOT EXISTS idx_notifications_expires_at ON notifications (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_processed_events_processed_at ON processed_events (processed_at);
-- Deleting a session sets audit_logs.session_id to NULL (ON DELETE SET NULL); without an
-- index every deleted session costs a full scan of the audit trail.
CREATE INDEX IF NOT EXISTS idx_audit_logs_session_id ON audit_logs (session_id) WHERE session_id IS NOT NULL;

-- 3. Erasure leaves the users row as a tombstone: status 'deleted' and a placeholder
--    address that satisfies users_email_format and can never receive mail (.invalid is
--    reserved by RFC 2606). The index finds the tombstones for reports.
CREATE INDEX IF NOT EXISTS idx_users_deleted_at ON users (deleted_at) WHERE deleted_at IS NOT NULL;
