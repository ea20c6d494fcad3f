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
from chalicelib.search import repo
from chalicelib.search.engine import (
    FACET_SIZE,
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
    rows = repo.typo_neighbours(conn, long_words)
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


class PostgresEngine:
    name = "postgres"

    def search_transactions(self, request: SearchRequest) -> SearchPage:
        with db.transaction() as conn:
            return search_transactions(conn, request)


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
    query = repo.search_statement(
        request.access,
        template=template,
        where=sql.SQL(" AND ").join(conds),
        score=score,
        after=after,
        facet_size=FACET_SIZE,
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
    rows = repo.transactions_of_page(conn, [p["id"] for p in page], sorted({p["transaction_date"] for p in page}))
    return {str(r["id"]): r for r in rows}


def _folder(conn: psycopg.Connection, texts: list[str | None]):
    """Folds highlight tokens with search_fold() itself (one round trip for the page), so
    highlights agree with what matched."""
    tokens = sorted({m.group() for t in texts if t for m in _TOKEN.finditer(t)})
    folded = dict(
        zip(
            tokens,
            repo.fold_all(conn, tokens) if tokens else [],
            strict=True,
        )
    )
    return lambda batch: [folded.get(t) or fold(t) for t in batch]
