-- Index audit of `transactions` and `transactions_archive` (issue 17).
--
-- Every monthly partition paid for 18 indexes on each write and the planner weighed all of
-- them on each partition it considered. What is left is what some query in chalicelib
-- uses; tests/infra/index_audit.py names that query for every index and
-- tests/infra/test_index_audit.py finds the index in its plan (and fails on an index the
-- table does not name). Columns stay as they are: only indexes go.
--
-- `transactions`, dropped:
--  * family_id, account_id: the page indexes lead with them. `family_id = x` implies the
--    family page's `family_id IS NOT NULL`, so it serves the family deletes and the
--    ON DELETE CASCADE from family_groups; idx_transactions_account_page serves every
--    `account_id = x` and the cascade from accounts.
--  * account_date_amount (account_id, transaction_date, amount): account_page starts with
--    the same two columns; import dedupe, budgets and net worth range over them.
--  * id: the primary key (id, transaction_date) leads with id; a second copy of it.
--  * transaction_date, amount, status, external_id, plaid_transaction_id: no query filters
--    on any of them alone. Dates prune partitions; the rest is always asked for within an
--    account or a person (account_external, account_pending, the page indexes).
-- Kept: the primary key, user_id (learned categorization and the unusual-spending history
-- read a person's rows of every kind, family ones too), category_id (re-filing on a
-- category's deletion, ON DELETE SET NULL), the three page indexes, the trigram index,
-- the search_vector index, account_external and account_pending (import dedupe).
DROP INDEX IF EXISTS idx_transactions_family_id;
DROP INDEX IF EXISTS idx_transactions_account_id;
DROP INDEX IF EXISTS idx_transactions_account_date_amount;
DROP INDEX IF EXISTS idx_transactions_id;
DROP INDEX IF EXISTS idx_transactions_transaction_date;
DROP INDEX IF EXISTS idx_transactions_amount;
DROP INDEX IF EXISTS idx_transactions_status;
DROP INDEX IF EXISTS idx_transactions_external_id;
DROP INDEX IF EXISTS idx_transactions_plaid_transaction_id;

-- `transactions_archive`: only what reads of archived rows use (include_archived pages,
-- lookup by id, an account's rows, a category's rows). Each of them is also an index of a
-- live partition, so ATTACH adopts it when a month is archived; the move drops the live
-- partition's other indexes (chalicelib/retention/archive.py). account_page is created
-- before the clean-up below so that archived months adopt their existing copy of it.
CREATE INDEX IF NOT EXISTS idx_transactions_archive_account_page
    ON transactions_archive (account_id, transaction_date DESC, created_at DESC, id DESC);
DROP INDEX IF EXISTS idx_transactions_archive_account_date_amount;
DROP INDEX IF EXISTS idx_transactions_archive_id;
DROP INDEX IF EXISTS idx_transactions_archive_transaction_date;
DROP INDEX IF EXISTS idx_transactions_archive_user;

-- Months archived before this migration still carry the live indexes the archive has no
-- parent index for (DETACH leaves them behind as indexes of the table alone). Drop every
-- index of a partition of either table that is not a partition of a parent's index.
DO $$
DECLARE
    leftover REGCLASS;
BEGIN
    FOR leftover IN
        SELECT i.indexrelid::regclass
          FROM pg_inherits p
          JOIN pg_index i ON i.indrelid = p.inhrelid
         WHERE p.inhparent IN ('transactions'::regclass, 'transactions_archive'::regclass)
           AND NOT EXISTS (SELECT 1 FROM pg_inherits ii WHERE ii.inhrelid = i.indexrelid)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    LOOP
        EXECUTE format('DROP INDEX %s', leftover);
    END LOOP;
END;
$$;
