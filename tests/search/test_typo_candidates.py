"""The typo step's trigram threshold (pg_engine.typo_candidates): every one-edit variant of
a query word passes it, so the trigram index never drops a true candidate."""

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


def test_every_one_edit_variant_of_a_word_is_above_the_threshold_set_for_it(conn):
    rng = random.Random(5)
    # Repeated letters make the fewest distinct trigrams: the hardest case for the bound.
    words = ["aaaaa", "ababa", "aaaaaaaaaaaa", "ref4242", "starbucks"]
    words += ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(5, 9))) for _ in range(40)]
    with conn.transaction():
        for word in words:
            pg_engine.typo_candidates(conn, [word])  # sets the threshold for this word
            below = conn.execute(
                """SELECT v FROM unnest(%s::text[]) AS v
                    WHERE similarity(v, %s) < current_setting('pg_trgm.similarity_threshold')::float4""",
                (sorted(_one_edit_variants(word)), word),
            ).fetchall()
            assert below == [], (word, below[:5])


def test_the_rare_word_of_a_large_dictionary_finds_its_neighbours_and_nothing_else(conn):
    conn.execute(
        "INSERT INTO search_dictionary (word) SELECT 'ref' || g FROM generate_series(1, 20000) g ON CONFLICT DO NOTHING"
    )
    with conn.transaction():
        found = pg_engine.typo_candidates(conn, ["ref4242"])["ref4242"]
    dictionary = {f"ref{n}" for n in range(1, 20001)}
    assert set(found) == {w for w in dictionary if w != "ref4242" and levenshtein_at_most_one(w, "ref4242")}
