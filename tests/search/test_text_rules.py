"""The query rules as pure functions, and the PostgreSQL typo expansion held to them."""

import random
import string

from chalicelib.search.pg_engine import typo_candidates
from chalicelib.search.text import QueryWord, fold, highlight, levenshtein_at_most_one, query_words


def _levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def test_query_words_fold_and_split_on_everything_but_letters_and_digits():
    assert query_words('Café "star*" (AT&T) | x:y \\ !') == ["cafe", "star", "at", "t", "x", "y"]
    assert query_words("*:()&|!") == []
    assert fold("Zürich Straße Ærø") == "zurich strasse aero"


def test_one_edit_means_insert_delete_or_substitute_and_a_swap_is_two():
    assert levenshtein_at_most_one("amazon", "amazom")
    assert levenshtein_at_most_one("amazon", "amazn")
    assert levenshtein_at_most_one("amazon", "amazoon")
    assert not levenshtein_at_most_one("amazon", "amaozn")
    assert not levenshtein_at_most_one("amazon", "amaz")
    rng = random.Random(3)
    for _ in range(2000):
        a = "".join(rng.choices("abc", k=rng.randint(0, 6)))
        b = "".join(rng.choices("abc", k=rng.randint(0, 6)))
        assert levenshtein_at_most_one(a, b) == (_levenshtein(a, b) <= 1), (a, b)


def test_last_word_prefix_or_typo_never_both():
    last = QueryWord("starbuc", last=True)
    assert last.matches("starbucks") and last.matches("starbuc")
    assert QueryWord("stxrbuc", last=True).matches("starbuc")
    assert not QueryWord("stxrbuc", last=True).matches("starbucks")
    assert not QueryWord("star", last=False).matches("starbucks")
    assert not QueryWord("amzn", last=False).matches("amaz")


def test_highlight_marks_whole_words_and_escapes_html():
    words = [QueryWord("cafe", last=False), QueryWord("star", last=True)]
    assert highlight("Café <Starbucks> & co", words, lambda toks: [fold(t) for t in toks]) == (
        "<em>Café</em> &lt;<em>Starbucks</em>&gt; &amp; co"
    )
    assert highlight("Nothing here", words, lambda toks: [fold(t) for t in toks]) is None


def test_trigram_candidates_find_every_one_edit_word_of_the_dictionary(db_url, conn):
    rng = random.Random(5)
    alphabet = string.ascii_lowercase[:8] + "0"
    words = {"".join(rng.choices(alphabet, k=rng.randint(4, 9))) for _ in range(3000)}
    probes = sorted(rng.sample(sorted(w for w in words if len(w) >= 5), 40))
    # Add every one-edit variant of the probes so recall is tested where it matters.
    for p in probes:
        for i in range(len(p) + 1):
            for c in alphabet:
                words.update({p[:i] + c + p[i:], p[:i] + c + p[i + 1 :]})
            words.add(p[:i] + p[i + 1 :])
    conn.execute(
        "INSERT INTO search_dictionary (word) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", (sorted(words),)
    )

    with conn.transaction():
        found = typo_candidates(conn, probes)

    for p in probes:
        expected = sorted(w for w in words if w != p and _levenshtein(p, w) == 1)
        assert found.get(p, []) == expected, p
