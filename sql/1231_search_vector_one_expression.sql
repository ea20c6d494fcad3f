-- The search_vector row trigger (sql/0601) as one expression (issue 17, imports ≥ 20,000 rows/s).
--
-- It called search_words(), an SQL function with a FROM clause, which PostgreSQL cannot
-- inline: every inserted row paid a function-executor start-up for regexp_split_to_table
-- + array_agg(DISTINCT), the largest single cost of writing a row here (a 100,000-row
-- import spent more time in this trigger than in any index). The same words, built
-- inline: concat_ws skips NULLs as array_to_string did, regexp_split_to_array yields the
-- same pieces as regexp_split_to_table, and array_to_tsvector sorts and removes the
-- duplicates that DISTINCT removed. tests/search/test_search_vector_trigger.py holds the
-- two definitions equal. search_words() stays: the category search and old rows use it.
CREATE OR REPLACE FUNCTION transactions_search_vector()
RETURNS TRIGGER AS $$
BEGIN
    NEW.search_vector := array_to_tsvector(array_remove(regexp_split_to_array(
        search_fold(concat_ws(' ', NEW.description, NEW.merchant, NEW.notes, array_to_string(NEW.tags, ' '))),
        '[^[:alnum:]]+'), ''));
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
