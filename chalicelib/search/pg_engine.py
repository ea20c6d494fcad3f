"""The PostgreSQL engine (what `make run` serves): per-word postings (sql/1301), queried
with folded words only.

Each query word is one group: the word itself (and, for the last word, every word it
prefixes) and its one-typo neighbours from search_dictionary; a row must match every
group. Candidates come from trigram similarity (cheap, indexed, a superset for words of
five letters and more) and are then held to the exact rule with levenshtein() <= 1.
Relevance per word: exact 3, prefix 2, typo 1 (the best of the row's words); ties go to
the newest. Rows of a deferred bulk write not indexed yet are matched through the heap
by the same rules (repo.owed_matches), so the answer never depends on the job's progress.
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


def _group(
    i: int,
    word: str,
    *,
    last: bool,
    candidates: list[str],
    present: set[str],
    prefixed: list[str] | None,
    params: dict,
    access,
    filters,
):
    """The postings of query word i: the word, its typo neighbours and, for the last word,
    the words it prefixes, each scored (exact 3, prefix 2, typo 1). Only words the caller's
    postings hold are looked up; a row is kept once, with its best score."""
    if not last or prefixed is not None:
        scored = {w: SCORE_EXACT for w in [word] if w in present}
        for w in (prefixed or []) if last else []:
            scored.setdefault(w, SCORE_PREFIX)
        for w in candidates:
            if w in present:
                scored.setdefault(w, SCORE_PREFIX if last and w.startswith(word) else SCORE_TYPO)
        ranked = sorted(scored.items(), key=lambda item: -item[1])  # stable: the order above within a score
        alternatives = []
        for j, (w, score) in enumerate(ranked):
            params[f"w{i}_{j}"] = w
            alternatives.append((sql.Placeholder(f"w{i}_{j}"), sql.Literal(score)))
        if not alternatives:  # no word of the group occurs: nothing matches
            params[f"w{i}_0"] = word
            alternatives = [(sql.Placeholder(f"w{i}_0"), sql.Literal(SCORE_EXACT))]
        return repo.ranked_postings(
            access.visible_postings("p"), access.visible_postings("e"), alternatives=alternatives, filters=filters
        )
    # A prefix of many words: its range in one scan, the best score per row by grouping.
    alternatives = [w for w in [word, *candidates] if w in present]
    params[f"w{i}"] = word
    params[f"alt{i}"] = alternatives
    w, alt = sql.Placeholder(f"w{i}"), sql.SQL("{}::text[]").format(sql.Placeholder(f"alt{i}"))
    score = sql.SQL("CASE WHEN p.word = {w} THEN {e} WHEN p.word ^@ {w} THEN {p} ELSE {t} END").format(
        w=w, e=sql.Literal(SCORE_EXACT), p=sql.Literal(SCORE_PREFIX), t=sql.Literal(SCORE_TYPO)
    )
    return repo.word_postings(
        access.visible_postings("p"), words=alt, prefix=w, score=score, filters=filters, grouped=True
    )


# Filters the postings answer themselves (their columns are in the index); the rest
# (account, amount, status, tag) join the heap for the matched rows.
_POSTING_FILTERS = ("category_id", "family_id", "from_", "to", "merchant")


def filter_conditions(
    request: SearchRequest, alias: str = "t", *, only: tuple[str, ...] | None = None, scoped: bool = True
) -> tuple[list[sql.Composable], dict[str, Any]]:
    """Scope (unless not `scoped`) and the filters of GET /transactions as SQL conditions;
    `only`: just those filters (Filters field names), the others left out."""
    f = request.filters
    col = lambda name: sql.Identifier(alias, name)  # noqa: E731
    conds: list[sql.Composable] = [request.access.visible(alias)] if scoped else []
    params: dict[str, Any] = {}
    wanted = lambda field: only is None or field in only  # noqa: E731
    for field, name, op in (
        ("account_id", "account_id", "="),
        ("category_id", "category_id", "="),
        ("family_id", "family_id", "="),
        ("from_", "transaction_date", ">="),
        ("to", "transaction_date", "<="),
        ("min_amount", "amount", ">="),
        ("max_amount", "amount", "<="),
        ("status", "status", "="),
    ):
        value = getattr(f, field)
        if value is not None and wanted(field):
            key = f"f_{alias}_{field}"
            params[key] = value
            conds.append(sql.SQL("{} " + op + " {}").format(col(name), sql.Placeholder(key)))
    if f.tag is not None and wanted("tag"):
        params[f"f_{alias}_tag"] = [f.tag]
        conds.append(sql.SQL("{} @> {}::text[]").format(col("tags"), sql.Placeholder(f"f_{alias}_tag")))
    if f.merchant is not None and wanted("merchant"):
        params[f"f_{alias}_merchant"] = f.merchant
        conds.append(sql.SQL("lower({}) = lower({})").format(col("merchant"), sql.Placeholder(f"f_{alias}_merchant")))
    return conds, params


class PostgresEngine:
    name = "postgres"

    def search_transactions(self, request: SearchRequest) -> SearchPage:
        own_unit = not db.in_transaction()
        with db.transaction() as conn:
            if own_unit:
                # One snapshot for the backlog check and the search (sql/1301): a deferred
                # write committing in between is either in both or in neither.
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            return search_transactions(conn, request)


def build_search(conn: psycopg.Connection, request: SearchRequest) -> tuple[list[str], sql.Composed, dict] | None:
    """(query words, the search statement, its parameters); None when q holds no word."""
    words = repo.query_words(conn, request.q)
    if not words:
        return None
    candidates = typo_candidates(conn, words)
    access = request.access
    params: dict[str, Any] = {"words": words, "limit": request.limit + 1}
    posting_filters, filter_params = filter_conditions(request, "p", only=_POSTING_FILTERS, scoped=False)
    params.update(filter_params)
    filters = sql.SQL(" AND ").join(posting_filters) if posting_filters else sql.SQL("TRUE")
    present, prefixed = repo.words_present(
        conn,
        access.visible_postings("p"),
        scopes=[access.user_id, *access.family_ids],
        words=sorted({*words, *(c for cs in candidates.values() for c in cs)}),
        prefix=words[-1],
    )
    groups = [
        _group(
            i, w, last=i == len(words) - 1, candidates=candidates.get(w, []), present=present, prefixed=prefixed,
            params=params, access=access, filters=filters,
        )
        for i, w in enumerate(words)
    ]  # fmt: skip
    heap_filters, heap_params = filter_conditions(
        request, "t", only=tuple(f for f in _HEAP_FILTERS if f not in _POSTING_FILTERS)
    )
    params.update(heap_params)
    every_filter, every_params = filter_conditions(request, "t")
    params.update(every_params)
    owed = None
    if repo.owes_postings(conn, access.visible_postings("b")):
        owed = repo.owed_matches(
            access,
            where=sql.SQL(" AND ").join(every_filter),
            words=sql.Placeholder("words"),
            nwords=len(words),
            typo_min=TYPO_MIN_LENGTH,
        )
    after = sql.SQL("TRUE")
    if request.after is not None:
        a_score, a_date, a_created, a_id = request.after
        params.update(a_score=int(a_score), a_date=date.fromisoformat(a_date), a_id=UUID(a_id))
        params["a_created"] = datetime.fromisoformat(a_created)
        after = sql.SQL(
            "(score, transaction_date, created_at, id) < (%(a_score)s, %(a_date)s, %(a_created)s, %(a_id)s)"
        )
    query = repo.search_statement(
        access,
        posted=repo.posted_matches(groups, heap=sql.SQL(" AND ").join(heap_filters), join_heap=len(heap_filters) > 1),
        owed=owed,
        after=after,
        facet_size=FACET_SIZE,
        limit=sql.Placeholder("limit"),
    )
    return words, query, params


_HEAP_FILTERS = (
    "account_id",
    "category_id",
    "family_id",
    "from_",
    "to",
    "min_amount",
    "max_amount",
    "status",
    "tag",
    "merchant",
)


# The matches of a frequent word (35k rows at 1M) are materialized once for the facets and
# the page; at the server's default 4 MB they spill to a temporary file.
SEARCH_WORK_MEM = "32MB"


def search_transactions(conn: psycopg.Connection, request: SearchRequest) -> SearchPage:
    conn.execute("SELECT set_config('work_mem', %s, true)", (SEARCH_WORK_MEM,))
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
