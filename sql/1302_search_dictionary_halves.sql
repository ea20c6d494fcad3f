-- Typo candidates from two btree ranges instead of the trigram index (issue 17: search
-- ≤ 50 ms p99). A word v at Levenshtein distance 1 from a query word w = A || B (A its
-- first length(w)/2 characters) either starts with A (the edit is in B's part) or ends
-- with B (the edit is in A's part), and is one character longer, shorter or as long as w.
-- So the candidates are two range scans per query word and length, over (length, word)
-- and (length, reverse(word)) in byte order, an exact superset that levenshtein() then
-- narrows (search.repo.typo_neighbours). The trigram scan it replaces read every word
-- sharing a few trigrams: 40 ms for `ref4242` in a 400k-word dictionary, 4-9 ms per word
-- of every query of five letters and more.
CREATE INDEX idx_search_dictionary_head ON search_dictionary (length(word), (word COLLATE "C"));
CREATE INDEX idx_search_dictionary_tail ON search_dictionary (length(word), (reverse(word) COLLATE "C"));
DROP INDEX IF EXISTS idx_search_dictionary_trgm;
ANALYZE search_dictionary;
