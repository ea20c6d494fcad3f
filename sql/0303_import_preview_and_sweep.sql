-- Statement imports read before they are booked (API.md "Imports"): a previewed file
-- waits in status 'preview' until it is confirmed. The seed's column keeps its name and
-- type; only the set of values it may hold grows.
ALTER TABLE data_sync_logs DROP CONSTRAINT IF EXISTS data_sync_logs_status_check;
ALTER TABLE data_sync_logs ADD CONSTRAINT data_sync_logs_status_check
    CHECK (status IN ('pending', 'in_progress', 'completed', 'failed', 'preview'));

-- Why a failed import failed, for clients to act on ('invalid_file', 'mapping_required',
-- 'internal_error', 'stale'); NULL for imports that did not fail. The rest of what a
-- reading decided (layout, skipped lines, warnings, preview rows, candidates) is
-- descriptive and lives in metadata.
ALTER TABLE data_sync_logs ADD COLUMN error_code VARCHAR(40);

-- The upkeep looks for imports left in_progress; there are few at any time.
CREATE INDEX idx_data_sync_logs_in_progress ON data_sync_logs (started_at) WHERE status = 'in_progress';

-- A posted statement row looks for its pending twin among the account's pending rows
-- by amount; pending rows are a small share of an account.
CREATE INDEX idx_transactions_account_pending ON transactions (account_id, amount, transaction_date)
    WHERE status = 'pending';
