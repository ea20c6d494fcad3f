-- Export jobs (API.md "Exports"): the request records one row and drops a job object
-- under exports/{user_id}/{id}/; the S3 handler builds the file. The row is the state
-- machine that makes the build happen once however often the event arrives:
-- pending -> in_progress is a conditional UPDATE only one delivery can win.
CREATE TABLE export_jobs (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id UUID REFERENCES family_groups(id) ON DELETE CASCADE,
    account_id UUID REFERENCES accounts(id) ON DELETE CASCADE,
    format VARCHAR(10) NOT NULL CHECK (format IN ('csv', 'xlsx', 'pdf')),
    date_from DATE NOT NULL,
    date_to DATE NOT NULL,
    include_archived BOOLEAN NOT NULL DEFAULT FALSE,
    status VARCHAR(20) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'in_progress', 'completed', 'failed')),
    row_count INTEGER NOT NULL DEFAULT 0,
    size_bytes BIGINT,
    file_key TEXT,
    error_message TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    started_at TIMESTAMPTZ,
    completed_at TIMESTAMPTZ,
    -- Set when retention removed the file and job object; the row stays as history.
    purged_at TIMESTAMPTZ,

    CONSTRAINT export_jobs_range CHECK (date_from <= date_to)
);
-- GET /exports: the caller's jobs, newest first, keyset-paginated.
CREATE INDEX idx_export_jobs_user_created ON export_jobs (user_id, created_at DESC, id DESC);
-- Retention: jobs whose objects are still in the bucket, oldest first.
CREATE INDEX idx_export_jobs_unpurged ON export_jobs (created_at) WHERE purged_at IS NULL;
