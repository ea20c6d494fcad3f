"""Category search: the same word rules over a category's name and description.

Always answered by PostgreSQL, whichever engine serves transactions: a caller has at
most a few hundred categories, a sequential pass with levenshtein() over them is
sub-millisecond, and the answer is fresh the moment a category is created."""

import psycopg

from chalicelib.families.access import Access
from chalicelib.search import repo

MAX_RESULTS = 50


def search(conn: psycopg.Connection, *, access: Access, q: str) -> list[dict]:
    words = repo.query_words(conn, q)
    if not words:
        return []
    return repo.search_categories(conn, access, words=words, limit=MAX_RESULTS)
