"""The PostgreSQL engine (what `make run` serves): the GIN-indexed word vector of
sql/0601_search.sql, queried with a tsquery built from folded words only.

Each query word becomes one OR-group: the word itself (as a prefix for the last
word) and its one-typo neighbours from search_dictionary; the groups are ANDed.
Candidates come from trigram similarity (cheap, indexed, a superset for words of
five letters and more) and are then held to the exact rule with levenshtein() <= 1.
Relevance per word: exact 3, prefix 2, typo 1; ties go to the newest.
"""

from datetime import date, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from chalicelib.infra import db
from chalicelib.search.engine import (
    FACET_SIZE,
    TRANSACTION_COLUMNS,
    SearchPage,
    SearchRequest,
    empty_page,
    sort_facets,
)
from chalicelib.search.text import TOKEN as _TOKEN
from chalicelib.search.text import TYPO_MIN_LENGTH, fold, highlight, plan

SCORE_EXACT, SCORE_PREFIX, SCORE_TYPO = 3, 2, 1


def _lexeme(word: str, *, prefix: bool = False) -> str:
    # Words are runs of letters and digits, but quote as if they were not.
    quoted = "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"
    return quoted + (":*" if prefix else "")


def typo_candidates(conn: psycopg.Connection, words: list[str]) -> dict[str, list[str]]:
    """Dictionary words at Levenshtein distance exactly 1 from each word of 5+ letters."""
    long_words = sorted({w for w in words if len(w) >= TYPO_MIN_LENGTH})
    if not long_words:
        return {}
    # The trigram threshold just below the lowest similarity a one-edit variant of any of
    # the words can have, so the index never drops a true candidate (levenshtein() then
    # decides): an edit removes at most three of a word's k distinct trigrams and adds at
    # most three, so similarity >= (k-3)/(k+3), 1/3 for most 5-letter words and more for
    # longer ones. The fixed 0.2 used before read ~every "refNNNNNN" of a 300k-word
    # dictionary for `ref4242` (1 s; 0.45 here: ~40 ms).
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


def filter_conditions(request: SearchRequest, alias: str = "t") -> tuple[list[sql.Composable], dict[str, Any]]:
    """Scope and the filters of GET /transactions as SQL conditions."""
    f = request.filters
    col = lambda name: sql.Identifier(alias, name)  # noqa: E731
    conds: list[sql.Composable] = [request.access.visible(alias)]
    params: dict[str, Any] = {}
    for name, value, op in (
        ("account_id", f.account_id, "="),
        ("category_id", f.category_id, "="),
        ("family_id", f.family_id, "="),
        ("transaction_date", f.from_, ">="),
        ("transaction_date", f.to, "<="),
        ("amount", f.min_amount, ">="),
        ("amount", f.max_amount, "<="),
        ("status", f.status, "="),
    ):
        if value is not None:
            key = f"f{len(params)}"
            params[key] = value
            conds.append(sql.SQL("{} " + op + " {}").format(col(name), sql.Placeholder(key)))
    if f.tag is not None:
        params["f_tag"] = [f.tag]
        conds.append(sql.SQL("{} @> {}::text[]").format(col("tags"), sql.Placeholder("f_tag")))
    if f.merchant is not None:
        params["f_merchant"] = f.merchant
        conds.append(sql.SQL("lower({}) = lower({})").format(col("merchant"), sql.Placeholder("f_merchant")))
    return conds, params


# The same answer in one pass over the matches for all three facets and the total
# (GROUPING SETS, hashed), months grouped by date_trunc and named after grouping (to_char
# on every match cost more than the month facet itself). What is left is reading the
# matches from the heap: BENCHMARKS.md, "Search and analytics on PostgreSQL".
_SEARCH = """
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


class PostgresEngine:
    name = "postgres"

    def search_transactions(self, request: SearchRequest) -> SearchPage:
        with db.transaction() as conn:
            return search_transactions(conn, request)


def build_search(
    conn: psycopg.Connection, request: SearchRequest, *, template: str = _SEARCH
) -> tuple[list[str], sql.Composed, dict] | None:
    """(query words, the search statement, its parameters); None when q holds no word.
    `template` is the statement's text (the bench times the one before issue 17 beside it)."""
    words = conn.execute("SELECT search_query_words(%s) AS w", (request.q,)).fetchone()["w"]
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
    query = sql.SQL(template).format(
        score=score,
        where=sql.SQL(" AND ").join(conds),
        facet_size=sql.Literal(FACET_SIZE),
        category_visible=request.access.category_visible("c"),
        after=after,
        limit=sql.Placeholder("limit"),
    )
    return words, query, params


def search_transactions(conn: psycopg.Connection, request: SearchRequest) -> SearchPage:
    built = build_search(conn, request)
    if built is None:
        return empty_page("postgres")
    words, query, params = built
    result = conn.execute(query, params).fetchone()
    page = result["page"]
    next_after = None
    if len(page) > request.limit:
        page = page[: request.limit]
        last = page[-1]
        next_after = [last["score"], last["transaction_date"], last["created_at"], last["id"]]
    rows = _load_rows(conn, page)
    plan_words = plan(words)
    folder = _folder(conn, [rows[p["id"]][f] for p in page for f in ("description", "merchant")])
    hits = []
    for entry in page:
        row = rows[entry["id"]]
        marks = {}
        for field in ("description", "merchant"):
            marked = highlight(row[field], plan_words, folder)
            if marked is not None:
                marks[field] = [marked]
        hits.append({"transaction": row, "score": float(entry["score"]), "highlight": marks})
    facets = sort_facets({"category": result["category"], "merchant": result["merchant"], "month": result["month"]})
    return SearchPage(hits=hits, total=result["total"], facets=facets, next_after=next_after, engine="postgres")


def _load_rows(conn: psycopg.Connection, page: list[dict]) -> dict[str, dict]:
    if not page:
        return {}
    rows = conn.execute(
        sql.SQL("SELECT {} FROM transactions WHERE id = ANY(%s::uuid[]) AND transaction_date = ANY(%s::date[])").format(
            sql.SQL(TRANSACTION_COLUMNS)
        ),
        ([p["id"] for p in page], sorted({p["transaction_date"] for p in page})),
    ).fetchall()
    return {str(r["id"]): r for r in rows}


def _folder(conn: psycopg.Connection, texts: list[str | None]):
    """Folds highlight tokens with search_fold() itself (one round trip for the page), so
    highlights agree with what matched."""
    tokens = sorted({m.group() for t in texts if t for m in _TOKEN.finditer(t)})
    folded = dict(
        zip(
            tokens,
            conn.execute("SELECT array(SELECT search_fold(x) FROM unnest(%s::text[]) AS x) AS f", (tokens,)).fetchone()[
                "f"
            ]
            if tokens
            else [],
            strict=True,
        )
    )
    return lambda batch: [folded.get(t) or fold(t) for t in batch]
