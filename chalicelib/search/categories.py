"""Category search: the same word rules over a category's name and description.

Always answered by PostgreSQL, whichever engine serves transactions: a caller has at
most a few hundred categories, a sequential pass with levenshtein() over them is
sub-millisecond, and the answer is fresh the moment a category is created."""

import psycopg
from psycopg import sql

from chalicelib.families.access import Access

MAX_RESULTS = 50

_SEARCH = sql.SQL("""
SELECT c.id, c.name, c.description, c.icon, c.color, c.parent_id, c.is_default, c.user_id, c.family_id,
       c.sort_order, s.score
  FROM categories c
 CROSS JOIN LATERAL (
        SELECT bool_and(m.k > 0) AS ok, sum(m.k) AS score
          FROM unnest(%(words)s::text[]) WITH ORDINALITY AS q(w, n)
         CROSS JOIN LATERAL (
                SELECT COALESCE(max(CASE WHEN d = q.w THEN 3
                                         WHEN q.n = %(last)s AND left(d, length(q.w)) = q.w THEN 2
                                         WHEN length(q.w) >= 5 AND levenshtein(d, q.w) <= 1 THEN 1
                                         ELSE 0 END), 0) AS k
                  FROM unnest(search_words(c.name, c.description)) AS d) m) s
 WHERE {visible}
   AND s.ok
 ORDER BY s.score DESC, c.is_default, c.sort_order, c.name
 LIMIT %(max)s
""")


def search(conn: psycopg.Connection, *, access: Access, q: str) -> list[dict]:
    words = conn.execute("SELECT search_query_words(%s) AS w", (q,)).fetchone()["w"]
    if not words:
        return []
    return conn.execute(
        _SEARCH.format(visible=access.category_visible("c")), {"words": words, "last": len(words), "max": MAX_RESULTS}
    ).fetchall()
