"""The PostgreSQL search statement as it was before the postings of sql/1301 (issue 17):
a tsquery over the GIN-indexed `search_vector`, every match read from the heap for the
total and the facets. bench/search.py --before-after times it beside the engine of today
on the same data; bench/search.py gives the bench database the search_vector and its GIN
index back for it (sql/1301 stopped maintaining them).

Kept as the code was (chalicelib/search/pg_engine.py and repo.py at f8f12a0), so that
`build_search` below and pg_engine.build_search take the same request and answer the same."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from chalicelib.search import repo
from chalicelib.search.engine import FACET_SIZE, SearchRequest
from chalicelib.search.pg_engine import filter_conditions
from chalicelib.search.text import TYPO_MIN_LENGTH

SCORE_EXACT, SCORE_PREFIX, SCORE_TYPO = 3, 2, 1

GIN_SEARCH = """
WITH hits AS MATERIALIZED (
    SELECT t.id, t.transaction_date, t.created_at, t.category_id, t.merchant, ({score}) AS score
      FROM transactions t
     WHERE {where}
),
counted AS (
    SELECT GROUPING(category_id, merchant, month) AS set_id, category_id, merchant, month, count(*) AS n
      FROM (SELECT category_id, merchant, date_trunc('month', transaction_date::timestamp) AS month FROM hits) h
     GROUP BY GROUPING SETS ((category_id), (merchant), (month), ())
)
SELECT
    (SELECT n FROM counted WHERE set_id = 7) AS total,
    (SELECT COALESCE(json_agg(json_build_object('id', f.category_id, 'name', c.name, 'count', f.n)), '[]')
       FROM (SELECT category_id, n FROM counted WHERE set_id = 3
              ORDER BY n DESC, category_id NULLS LAST LIMIT {facet_size}) f
       LEFT JOIN categories c ON c.id = f.category_id AND {category_visible}) AS category,
    (SELECT COALESCE(json_agg(json_build_object('value', f.merchant, 'count', f.n)), '[]')
       FROM (SELECT merchant, n FROM counted WHERE set_id = 5 AND merchant IS NOT NULL
              ORDER BY n DESC, merchant COLLATE "C" LIMIT {facet_size}) f) AS merchant,
    (SELECT COALESCE(json_agg(json_build_object('value', to_char(f.month, 'YYYY-MM'), 'count', f.n)), '[]')
       FROM (SELECT month, n FROM counted WHERE set_id = 6) f) AS month,
    (SELECT COALESCE(json_agg(json_build_object('id', p.id, 'transaction_date', p.transaction_date,
                                                'created_at', p.created_at, 'score', p.score)), '[]')
       FROM (SELECT * FROM hits WHERE {after}
              ORDER BY score DESC, transaction_date DESC, created_at DESC, id DESC LIMIT {limit}) p) AS page
"""


def _lexeme(word: str, *, prefix: bool = False) -> str:
    # Words are runs of letters and digits, but quote as if they were not.
    quoted = "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"
    return quoted + (":*" if prefix else "")


def build_tsqueries(words: list[str], candidates: dict[str, list[str]]) -> tuple[str, list[tuple[str, str | None]]]:
    """(the whole match query, per word (exact query, prefix query or None)) as tsquery text."""
    groups, per_word = [], []
    for i, word in enumerate(words):
        last = i == len(words) - 1
        alternatives = [_lexeme(word, prefix=last)] + [_lexeme(c) for c in candidates.get(word, [])]
        groups.append("(" + " | ".join(alternatives) + ")")
        per_word.append((_lexeme(word), _lexeme(word, prefix=True) if last else None))
    return " & ".join(groups), per_word


def _score_sql(words: list[str], candidates: dict[str, list[str]], per_word) -> tuple[sql.Composable, dict]:
    parts: list[sql.Composable] = []
    params: dict[str, Any] = {}
    for i, (word, (exact, prefix)) in enumerate(zip(words, per_word, strict=True)):
        if prefix is None and not candidates.get(word):
            parts.append(sql.Literal(SCORE_EXACT))
            continue
        params[f"exact{i}"] = exact
        branch = sql.SQL("WHEN t.search_vector @@ {}::tsquery THEN {} ").format(
            sql.Placeholder(f"exact{i}"), sql.Literal(SCORE_EXACT)
        )
        if prefix is not None:
            params[f"prefix{i}"] = prefix
            branch += sql.SQL("WHEN t.search_vector @@ {}::tsquery THEN {} ").format(
                sql.Placeholder(f"prefix{i}"), sql.Literal(SCORE_PREFIX)
            )
        parts.append(sql.SQL("CASE ") + branch + sql.SQL("ELSE {} END").format(sql.Literal(SCORE_TYPO)))
    return sql.SQL(" + ").join(parts), params


def typo_candidates(conn: psycopg.Connection, words: list[str]) -> dict[str, list[str]]:
    """The typo lookup as it was: trigram candidates from the dictionary's GIN index (the
    bench recreates it), held to levenshtein() <= 1 (search.repo.typo_neighbours at f8f12a0)."""
    long_words = sorted({w for w in words if len(w) >= TYPO_MIN_LENGTH})
    if not long_words:
        return {}
    conn.execute(
        """SELECT set_config('pg_trgm.similarity_threshold',
                             greatest(0, min((k - 3)::float8 / (k + 3)) - 0.01)::text, true)
             FROM (SELECT cardinality(show_trgm(w)) AS k FROM unnest(%s::text[]) AS w) s""",
        (long_words,),
    )
    rows = conn.execute(
        """SELECT q.w, d.word
             FROM unnest(%s::text[]) AS q(w)
             JOIN LATERAL (SELECT word FROM search_dictionary
                            WHERE word %% q.w AND word <> q.w
                              AND length(word) BETWEEN length(q.w) - 1 AND length(q.w) + 1
                              AND levenshtein(word, q.w) <= 1) d ON TRUE
            ORDER BY q.w, d.word""",
        (long_words,),
    ).fetchall()
    found: dict[str, list[str]] = {}
    for r in rows:
        found.setdefault(r["w"], []).append(r["word"])
    return found


def build_search(
    conn: psycopg.Connection, request: SearchRequest, *, template: str | None = None
) -> tuple[list[str], sql.Composed, dict] | None:
    """(query words, the search statement, its parameters); None when q holds no word.
    `template` replaces the statement's text (the bench times the one before issue 17 beside it)."""
    words = repo.query_words(conn, request.q)
    if not words:
        return None
    candidates = typo_candidates(conn, words)
    match_query, per_word = build_tsqueries(words, candidates)
    score, params = _score_sql(words, candidates, per_word)
    conds, filter_params = filter_conditions(request)
    params.update(filter_params, match=match_query, limit=request.limit + 1)
    conds.append(sql.SQL("t.search_vector @@ {}::tsquery").format(sql.Placeholder("match")))
    after = sql.SQL("TRUE")
    if request.after is not None:
        a_score, a_date, a_created, a_id = request.after
        params.update(a_score=int(a_score), a_date=date.fromisoformat(a_date), a_id=UUID(a_id))
        params["a_created"] = datetime.fromisoformat(a_created)
        after = sql.SQL(
            "(score, transaction_date, created_at, id) < (%(a_score)s, %(a_date)s, %(a_created)s, %(a_id)s)"
        )
    query = sql.SQL(template or GIN_SEARCH).format(
        score=score,
        where=sql.SQL(" AND ").join(conds),
        facet_size=sql.Literal(FACET_SIZE),
        category_visible=request.access.category_visible("c"),
        after=after,
        limit=sql.Placeholder("limit"),
    )
    return words, query, params
