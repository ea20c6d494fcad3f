-- Full-text search on PostgreSQL (the embedded engine, API.md "Search").
--
-- A transaction's searchable words are its description, merchant, notes and tags,
-- accent-folded, lower-cased and split on anything that is not a letter or a digit.
-- They are kept as a tsvector built straight from that word list (array_to_tsvector:
-- no text-search parser in between, so a "word" means the same thing here, in the
-- query and in Elasticsearch's pattern tokenizer). The GIN index answers exact words
-- and prefixes ('star':*); one-typo matches are found by expanding a query word
-- through search_dictionary (trigram candidates, then the exact Levenshtein rule).
--
-- search_vector is a plain column filled by a row trigger rather than a generated
-- column: `INSERT INTO transactions_archive SELECT * FROM transactions` and moving
-- partitions between the two tables keep working because both get the same column.

CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;

-- unaccent() is only STABLE (it looks its dictionary up by name); pinning the
-- dictionary makes the result depend on the input alone, which an index needs.
CREATE OR REPLACE FUNCTION search_fold(value TEXT)
RETURNS TEXT
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, value)) $$;

-- The query's words in order (the last one is matched as a prefix too).
CREATE OR REPLACE FUNCTION search_query_words(value TEXT)
RETURNS TEXT[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT COALESCE(array_agg(w ORDER BY n), '{}')
      FROM regexp_split_to_table(search_fold(COALESCE(value, '')), '[^[:alnum:]]+') WITH ORDINALITY AS t(w, n)
     WHERE w <> ''
$$;

-- A document's distinct words, from any number of text fields (NULLs skipped).
CREATE OR REPLACE FUNCTION search_words(VARIADIC parts TEXT[])
RETURNS TEXT[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT COALESCE(array_agg(DISTINCT w), '{}')
      FROM regexp_split_to_table(search_fold(array_to_string(parts, ' ')), '[^[:alnum:]]+') AS w
     WHERE w <> ''
$$;

ALTER TABLE transactions ADD COLUMN search_vector TSVECTOR;
ALTER TABLE transactions_archive ADD COLUMN search_vector TSVECTOR;

CREATE OR REPLACE FUNCTION transactions_search_vector()
RETURNS TRIGGER AS $$
BEGIN
    NEW.search_vector := array_to_tsvector(
        search_words(NEW.description, NEW.merchant, NEW.notes, array_to_string(NEW.tags, ' ')));
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER transactions_search_vector_insert BEFORE INSERT ON transactions
    FOR EACH ROW EXECUTE FUNCTION transactions_search_vector();
CREATE TRIGGER transactions_search_vector_update BEFORE UPDATE OF description, merchant, notes, tags ON transactions
    FOR EACH ROW EXECUTE FUNCTION transactions_search_vector();

UPDATE transactions SET search_vector = array_to_tsvector(
    search_words(description, merchant, notes, array_to_string(tags, ' ')));

CREATE INDEX idx_transactions_search_vector ON transactions USING gin (search_vector);

-- Every word ever indexed, for typo expansion. It only grows: a word nobody uses any
-- more costs one candidate that matches no row. It holds words, never who wrote them,
-- and a candidate only ever matches rows the caller's scope already allows.
CREATE TABLE search_dictionary (
    word TEXT PRIMARY KEY
);
CREATE INDEX idx_search_dictionary_trgm ON search_dictionary USING gin (word gin_trgm_ops);

CREATE OR REPLACE FUNCTION search_dictionary_add()
RETURNS TRIGGER AS $$
BEGIN
    -- Sorted so that two statements adding the same new words cannot deadlock.
    INSERT INTO search_dictionary (word)
    SELECT w FROM (SELECT DISTINCT unnest(tsvector_to_array(search_vector)) AS w FROM new_rows) n
     WHERE NOT EXISTS (SELECT 1 FROM search_dictionary d WHERE d.word = n.w)
     ORDER BY w
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER transactions_search_dictionary_insert AFTER INSERT ON transactions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_dictionary_add();
CREATE TRIGGER transactions_search_dictionary_update AFTER UPDATE ON transactions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_dictionary_add();

INSERT INTO search_dictionary (word)
SELECT DISTINCT unnest(tsvector_to_array(search_vector)) FROM transactions
ON CONFLICT DO NOTHING;

-- Keyset order of the search-sync drain and of the purge of processed rows.
CREATE INDEX idx_outbox_processed_at ON outbox(processed_at) WHERE processed_at IS NOT NULL;
