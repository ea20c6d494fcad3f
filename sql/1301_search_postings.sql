-- Search on PostgreSQL from per-word postings (issue 17: search ≤ 50 ms p99 at 1M rows).
--
-- The GIN index on search_vector found a word's rows quickly, but `total` and the three
-- facets (category, merchant, month) need every match, and each match was one heap page:
-- 14k–38k random heap reads per query. search_postings holds one row per (transaction,
-- distinct word) with everything the total, the facets and the page order read, and its
-- index (scope, word) INCLUDE (…) answers a word, a prefix (a range of words) or a few
-- typo neighbours from an index-only scan. The words are exactly search_words() of the
-- row (description, merchant, notes, tags; tests/search/postings_check.py holds them equal).
--
-- scope is COALESCE(family_id, user_id): Access.visible() reads (family_id IS NULL AND
-- user_id = me) OR family_id = ANY(families); over postings that is scope = ANY(me,
-- families) narrowed by the same rule on (scope, family_id) (Access.visible_postings).
--
-- Kept exact by statement-level triggers with transition tables (one set-based INSERT …
-- SELECT unnest(words) per statement, like the balances and sql/1241). Transition tables
-- cannot go with a column list (UPDATE OF …), so the UPDATE trigger compares old and new
-- rows itself and rewrites the postings of the rows whose words or posting columns changed.
--
-- Bulk writes defer: under `SET LOCAL fiscaflow.search_deferred = 'on'` (the import's
-- write transaction) the INSERT trigger records one search_backlog entry per scope of the
-- statement (the ids and their date range) instead of the postings; the engine matches
-- those rows through the heap meanwhile (results identical, only slower), and
-- chalicelib.search.postings.index_backlog() builds them, one transaction per entry.
-- UPDATE and DELETE never defer (a row that is in the backlog and also has postings is
-- found by both paths; the engine keeps one).
--
-- Archiving detaches whole months without DML: chalicelib/retention/archive.py removes the
-- month's postings in the same unit (search_postings_forget_partition). A restore loads
-- the table as dumped, or rebuilds it from a dump made before it (search_postings_rebuild).
-- Erasure is the ON DELETE CASCADE of users/family_groups → transactions, which fires the
-- DELETE trigger below (no foreign key here: it would have to reference the partitioned
-- primary key (id, transaction_date), one more index probe per posting written).
--
-- search_vector, its row trigger, its GIN index and the search_dictionary triggers that
-- read it go: nothing reads them any more. The column stays (no longer maintained: NULL on
-- new rows, old values left as they were) so that older backups, whose COPY lines name
-- it, still restore and live months still attach to the archive. search_dictionary (the
-- typo source, its trigram index kept) is now fed from the words of new postings.

CREATE TABLE search_postings (
    scope UUID NOT NULL,
    word TEXT COLLATE "C" NOT NULL,
    id UUID NOT NULL,
    transaction_date DATE NOT NULL,
    created_at TIMESTAMPTZ,
    family_id UUID,
    category_id UUID,
    merchant VARCHAR(255)
);
-- C collation: a prefix is the btree range [prefix, next prefix) (`word ^@ prefix`).
CREATE INDEX idx_search_postings_word ON search_postings (scope, word)
    INCLUDE (id, transaction_date, created_at, family_id, category_id, merchant);
-- The triggers' and the job's deletes by transaction id.
CREATE INDEX idx_search_postings_id ON search_postings (id);

CREATE TABLE search_backlog (
    id BIGSERIAL PRIMARY KEY,
    scope UUID NOT NULL,
    family_id UUID,
    -- The rows owed: ids[i] is dated dates[i] (the key of `transactions`, so each is one
    -- probe of its month's primary key, not one per partition of the range).
    ids UUID[] NOT NULL,
    dates DATE[] NOT NULL,
    first_date DATE NOT NULL,
    last_date DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A row's distinct words: search_words(description, merchant, notes, tags) as a set, the
-- one definition the triggers, the backlog job and the rebuild below share. search_words()
-- itself is an SQL function with a FROM clause that PostgreSQL cannot inline into a
-- per-row expression (sql/1231 says what that cost); this one is a set-returning SQL
-- function, which the planner inlines into the LATERAL join (EXPLAIN shows the unnest
-- itself), so it costs what the expression written out did. Each row's words are made
-- distinct on their own: a DISTINCT over all the statement's postings cost ~20 % more at
-- 100k rows.
CREATE OR REPLACE FUNCTION search_row_words(description TEXT, merchant TEXT, notes TEXT, tags TEXT[])
RETURNS SETOF TEXT
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT DISTINCT x
      FROM unnest(regexp_split_to_array(
            search_fold(concat_ws(' ', description, merchant, notes, array_to_string(tags, ' '))),
            '[^[:alnum:]]+')) AS x
     WHERE x <> ''
$$;

-- The postings of a set of rows, and the dictionary words they bring.
-- The triggers' statements that read a transition table run through EXECUTE: PL/pgSQL
-- keeps a statement's plan for the session, planned for the transition table's size at its
-- first run, so after one bulk UPDATE every later one-row edit on that connection would
-- delete its postings by a hash join over the whole of search_postings (a seq scan of
-- millions of rows) instead of an index probe. EXECUTE plans each time, for the rows at
-- hand; a one-row edit on the 1M-row bench database took 3.3–3.9 ms so, 4.4 ms before.
CREATE OR REPLACE FUNCTION search_postings_on_insert()
RETURNS TRIGGER AS $$
BEGIN
    IF current_setting('fiscaflow.search_deferred', true) = 'on' THEN
        INSERT INTO search_backlog (scope, family_id, ids, dates, first_date, last_date)
        SELECT COALESCE(family_id, user_id), family_id, array_agg(id ORDER BY id, transaction_date),
               array_agg(transaction_date ORDER BY id, transaction_date), min(transaction_date), max(transaction_date)
          FROM new_rows GROUP BY 1, 2;
        RETURN NULL;
    END IF;
    EXECUTE $stmt$
    WITH words AS MATERIALIZED (
        SELECT COALESCE(n.family_id, n.user_id) AS scope, w.word, n.id, n.transaction_date, n.created_at,
               n.family_id, n.category_id, n.merchant
          FROM new_rows n
         CROSS JOIN LATERAL search_row_words(n.description, n.merchant, n.notes, n.tags) AS w(word)
    ), posted AS (
        INSERT INTO search_postings (scope, word, id, transaction_date, created_at, family_id, category_id, merchant)
        SELECT scope, word, id, transaction_date, created_at, family_id, category_id, merchant FROM words
    )
    -- Sorted so that two statements adding the same new words cannot deadlock.
    INSERT INTO search_dictionary (word)
    SELECT w FROM (SELECT DISTINCT word AS w FROM words) n
     WHERE NOT EXISTS (SELECT 1 FROM search_dictionary d WHERE d.word = n.w)
     ORDER BY w
    ON CONFLICT DO NOTHING
    $stmt$;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION search_postings_on_update()
RETURNS TRIGGER AS $$
BEGIN
    -- One statement: its sub-statements share a snapshot, so the DELETE never sees the new postings.
    EXECUTE $stmt$
    WITH changed AS MATERIALIZED (
        -- Rows whose words or posting columns changed (a status or amount change touches nothing).
        SELECT n.id FROM new_rows n LEFT JOIN old_rows o ON o.id = n.id
         WHERE o.id IS NULL
            OR (n.description, n.merchant, n.notes, n.tags, n.user_id, n.family_id, n.category_id,
                n.transaction_date, n.created_at)
               IS DISTINCT FROM
               (o.description, o.merchant, o.notes, o.tags, o.user_id, o.family_id, o.category_id,
                o.transaction_date, o.created_at)
        UNION
        SELECT o.id FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id)
    ), gone AS (
        DELETE FROM search_postings p WHERE p.id IN (SELECT id FROM changed)
    ), words AS MATERIALIZED (
        SELECT COALESCE(n.family_id, n.user_id) AS scope, w.word, n.id, n.transaction_date, n.created_at,
               n.family_id, n.category_id, n.merchant
          FROM new_rows n
         CROSS JOIN LATERAL search_row_words(n.description, n.merchant, n.notes, n.tags) AS w(word)
         WHERE n.id IN (SELECT id FROM changed)
    ), posted AS (
        INSERT INTO search_postings (scope, word, id, transaction_date, created_at, family_id, category_id, merchant)
        SELECT scope, word, id, transaction_date, created_at, family_id, category_id, merchant FROM words
    )
    INSERT INTO search_dictionary (word)
    SELECT w FROM (SELECT DISTINCT word AS w FROM words) n
     WHERE NOT EXISTS (SELECT 1 FROM search_dictionary d WHERE d.word = n.w)
     ORDER BY w
    ON CONFLICT DO NOTHING
    $stmt$;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION search_postings_on_delete()
RETURNS TRIGGER AS $$
BEGIN
    EXECUTE 'DELETE FROM search_postings p WHERE p.id IN (SELECT id FROM old_rows)';
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION search_postings_on_truncate()
RETURNS TRIGGER AS $$
BEGIN
    DELETE FROM search_postings;
    DELETE FROM search_backlog;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- The postings of the rows of a backlog entry, built from their current rows, and the
-- entry gone. Idempotent: a row updated meanwhile already has postings, which are replaced;
-- a row whose date an update changed had its postings written by that update and is left
-- alone (the job finds rows by their key as written: (id, date)).
CREATE OR REPLACE FUNCTION search_backlog_index(entry BIGINT)
RETURNS BIGINT AS $$
DECLARE
    b search_backlog;
    written BIGINT;
BEGIN
    DELETE FROM search_backlog WHERE id = entry RETURNING * INTO b;
    IF b.id IS NULL THEN
        RETURN 0;
    END IF;
    -- One statement: its sub-statements share a snapshot, so the DELETE never sees the new postings.
    WITH owed AS MATERIALIZED (
        SELECT n.id, n.user_id, n.family_id, n.transaction_date, n.created_at, n.category_id, n.merchant,
               n.description, n.notes, n.tags
          FROM unnest(b.ids, b.dates) AS o(id, day)
          JOIN transactions n ON n.id = o.id AND n.transaction_date = o.day
    ), gone AS (
        DELETE FROM search_postings p WHERE p.id IN (SELECT id FROM owed)
    ), words AS MATERIALIZED (
        SELECT COALESCE(n.family_id, n.user_id) AS scope, w.word, n.id, n.transaction_date, n.created_at,
               n.family_id, n.category_id, n.merchant
          FROM owed n
         CROSS JOIN LATERAL search_row_words(n.description, n.merchant, n.notes, n.tags) AS w(word)
    ), posted AS (
        INSERT INTO search_postings (scope, word, id, transaction_date, created_at, family_id, category_id, merchant)
        SELECT scope, word, id, transaction_date, created_at, family_id, category_id, merchant FROM words
    ), added AS (
        INSERT INTO search_dictionary (word)
        SELECT w FROM (SELECT DISTINCT word AS w FROM words) n
         WHERE NOT EXISTS (SELECT 1 FROM search_dictionary d WHERE d.word = n.w)
         ORDER BY w
        ON CONFLICT DO NOTHING
    )
    SELECT count(*) INTO written FROM words;
    RETURN written;
END;
$$ LANGUAGE plpgsql;

-- A live month left `transactions` as a whole (archived partition): its rows' postings go.
CREATE OR REPLACE FUNCTION search_postings_forget_partition(partition REGCLASS)
RETURNS VOID AS $$
BEGIN
    EXECUTE format('DELETE FROM search_postings p USING %s t WHERE p.id = t.id', partition);
END;
$$ LANGUAGE plpgsql;

-- Every posting built again from `transactions` (a restore of a dump made before this migration).
CREATE OR REPLACE FUNCTION search_postings_rebuild()
RETURNS VOID AS $$
    DELETE FROM search_backlog;
    DELETE FROM search_postings;
    INSERT INTO search_postings (scope, word, id, transaction_date, created_at, family_id, category_id, merchant)
    SELECT COALESCE(n.family_id, n.user_id), w.word, n.id, n.transaction_date, n.created_at,
           n.family_id, n.category_id, n.merchant
      FROM transactions n
     CROSS JOIN LATERAL search_row_words(n.description, n.merchant, n.notes, n.tags) AS w(word);
    INSERT INTO search_dictionary (word) SELECT DISTINCT word FROM search_postings ON CONFLICT DO NOTHING;
$$ LANGUAGE sql;

CREATE TRIGGER transactions_search_postings_insert
    AFTER INSERT ON transactions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_postings_on_insert();
CREATE TRIGGER transactions_search_postings_update
    AFTER UPDATE ON transactions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_postings_on_update();
CREATE TRIGGER transactions_search_postings_delete
    AFTER DELETE ON transactions REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_postings_on_delete();
CREATE TRIGGER transactions_search_postings_truncate
    AFTER TRUNCATE ON transactions
    FOR EACH STATEMENT EXECUTE FUNCTION search_postings_on_truncate();

-- What nothing reads any more.
DROP TRIGGER IF EXISTS transactions_search_vector_insert ON transactions;
DROP TRIGGER IF EXISTS transactions_search_vector_update ON transactions;
DROP TRIGGER IF EXISTS transactions_search_dictionary_insert ON transactions;
DROP TRIGGER IF EXISTS transactions_search_dictionary_update ON transactions;
DROP FUNCTION IF EXISTS transactions_search_vector();
DROP FUNCTION IF EXISTS search_dictionary_add();
DROP INDEX IF EXISTS idx_transactions_search_vector;

SELECT search_postings_rebuild();
ANALYZE search_postings;
