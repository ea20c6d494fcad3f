"""The typo step's candidates (pg_engine.typo_candidates, sql/1302): the two btree ranges
never drop a dictionary word one edit away, and levenshtein() keeps nothing else."""

import random

from chalicelib.search import pg_engine
from chalicelib.search.text import levenshtein_at_most_one

_ALPHABET = "ab0é"


def _one_edit_variants(word: str) -> set[str]:
    out = set()
    for i in range(len(word) + 1):
        for c in _ALPHABET:
            out.add(word[:i] + c + word[i:])
            if i < len(word):
                out.add(word[:i] + c + word[i + 1 :])
        if i < len(word):
            out.add(word[:i] + word[i + 1 :])
    out.discard(word)
    return out


def test_the_candidates_are_every_dictionary_word_one_edit_away_and_nothing_else(conn):
    rng = random.Random(5)
    # Repeated letters, accents, a non-BMP character and the top of the code space: the
    # byte-order bounds of the two ranges (search.repo._after_prefix) at their edges.
    words = ["aaaaa", "ababa", "aaaaaaaaaaaa", "ref4242", "starbucks", "caf\u00e9s", "\U0001f600abcd", "ab\U0010ffffcd"]
    words += ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(5, 9))) for _ in range(40)]
    dictionary = set(words)
    for word in words:
        variants = sorted(_one_edit_variants(word))
        dictionary.update(rng.sample(variants, min(len(variants), 12)))
        dictionary.update(word[:i] + "x" * rng.randint(2, 3) + word[i + 2 :] for i in range(len(word)))  # two edits
    conn.execute(
        "INSERT INTO search_dictionary (word) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", (sorted(dictionary),)
    )
    with conn.transaction():
        found = pg_engine.typo_candidates(conn, words)
    for word in words:
        expected = {w for w in dictionary if w != word and levenshtein_at_most_one(w, word)}
        assert set(found.get(word, [])) == expected, word


def test_the_rare_word_of_a_large_dictionary_finds_its_neighbours_and_nothing_else(conn):
    conn.execute(
        "INSERT INTO search_dictionary (word) SELECT 'ref' || g FROM generate_series(1, 20000) g ON CONFLICT DO NOTHING"
    )
    with conn.transaction():
        found = pg_engine.typo_candidates(conn, ["ref4242"])["ref4242"]
    dictionary = {f"ref{n}" for n in range(1, 20001)}
    assert set(found) == {w for w in dictionary if w != "ref4242" and levenshtein_at_most_one(w, "ref4242")}
