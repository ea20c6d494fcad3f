"""SQL of search: the documents' columns, the outbox drain, the PostgreSQL engine's
statements and category search. One column list per indexed table."""

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from chalicelib.families.access import Access, Visibility

TRANSACTION_COLUMNS = sql.SQL(
    "id, user_id, family_id, account_id, category_id, amount, currency, description, merchant, location, "
    "transaction_date, posted_date, status, categorization_source, categorization_confidence, tags, notes, "
    "receipt_url, external_id, created_at, updated_at"
)
CATEGORY_COLUMNS = sql.SQL(
    "id, name, description, icon, color, parent_id, is_default, is_active, sort_order, user_id, family_id"
)

# --- the whole tables, for a reindex (every user's rows: the index is scoped at query time)

REINDEX = {
    "transactions": sql.SQL("SELECT {} FROM transactions").format(TRANSACTION_COLUMNS),
    "categories": sql.SQL("SELECT {} FROM categories").format(CATEGORY_COLUMNS),
}


def transactions_by_id(conn: psycopg.Connection, ids: list[str]) -> list[dict[str, Any]]:
    """The current rows of the documents the outbox names (gone rows are absent)."""
    query = sql.SQL("SELECT {} FROM transactions WHERE id = ANY(%s::uuid[])").format(TRANSACTION_COLUMNS)
    return conn.execute(query, (ids,)).fetchall()


def categories_by_id(conn: psycopg.Connection, ids: list[str]) -> list[dict[str, Any]]:
    query = sql.SQL("SELECT {} FROM categories WHERE id = ANY(%s::uuid[])").format(CATEGORY_COLUMNS)
    return conn.execute(query, (ids,)).fetchall()


# --- the outbox


def take_drain_lock(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0)) AS ok", (name,)).fetchone()["ok"]


def lock_pending(conn: psycopg.Connection, limit: int) -> list[dict[str, Any]]:
    """The oldest pending outbox rows in id order, locked for this drain (a transaction
    set with its size and how many of its ids were sent, not the ids themselves)."""
    return conn.execute(
        """SELECT id, aggregate_type, aggregate_id, attempts, cardinality(aggregate_ids) AS set_size, ids_sent
             FROM outbox
            WHERE processed_at IS NULL AND parked_at IS NULL
            ORDER BY id LIMIT %s FOR UPDATE""",
        (limit,),
    ).fetchall()


def set_slice(conn: psycopg.Connection, outbox_id: int, *, start: int, count: int) -> list[UUID]:
    """Ids start+1 .. start+count (1-based) of a transaction set."""
    row = conn.execute(
        "SELECT aggregate_ids[%s:%s] AS ids FROM outbox WHERE id = %s", (start + 1, start + count, outbox_id)
    ).fetchone()
    return row["ids"] or []


def advance_set(conn: psycopg.Connection, outbox_id: int, *, sent: int) -> None:
    """Note that the set's first `sent` ids are in the index; processed once all are."""
    conn.execute(
        """UPDATE outbox SET ids_sent = %(sent)s, last_error = NULL,
                             processed_at = CASE WHEN %(sent)s >= cardinality(aggregate_ids) THEN now() END
            WHERE id = %(id)s""",
        {"sent": sent, "id": outbox_id},
    )


def record_set_failure(conn: psycopg.Connection, aggregate_id: str, *, error: str, park: bool) -> dict[str, Any]:
    """A document of a set the index refused, queued again on its own (a plain entry with
    one attempt counted), so that it retries and parks alone and the set moves on."""
    return conn.execute(
        """INSERT INTO outbox (aggregate_type, aggregate_id, operation, attempts, last_error, parked_at)
           VALUES ('transaction', %s, 'upsert', 1, %s, CASE WHEN %s THEN now() END)
           RETURNING id, aggregate_id""",
        (aggregate_id, error, park),
    ).fetchone()


def count_pending(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) AS n FROM outbox WHERE processed_at IS NULL AND parked_at IS NULL").fetchone()[
        "n"
    ]


def mark_all_processed(conn: psycopg.Connection) -> int:
    return conn.execute(
        "UPDATE outbox SET processed_at = now() WHERE processed_at IS NULL AND parked_at IS NULL"
    ).rowcount


def mark_processed(conn: psycopg.Connection, ids: list[int]) -> None:
    conn.execute("UPDATE outbox SET processed_at = now(), last_error = NULL WHERE id = ANY(%s)", (ids,))


def record_failure(conn: psycopg.Connection, outbox_id: int, *, error: str, park: bool) -> None:
    conn.execute(
        """UPDATE outbox SET attempts = attempts + 1, last_error = %s,
                             parked_at = CASE WHEN %s THEN now() END
            WHERE id = %s""",
        (error, park, outbox_id),
    )


def purge_processed(conn: psycopg.Connection, *, older_than_days: int) -> int:
    return conn.execute(
        "DELETE FROM outbox WHERE processed_at < now() - make_interval(days => %s)", (older_than_days,)
    ).rowcount


def high_water_mark(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT COALESCE(max(id), 0) AS mark FROM outbox").fetchone()["mark"]


def requeue_after(conn: psycopg.Connection, mark: int) -> int:
    """Queue again every change after `mark` that a drain already sent (to the old index)."""
    return conn.execute(
        "UPDATE outbox SET processed_at = NULL, ids_sent = 0 WHERE id > %s AND processed_at IS NOT NULL", (mark,)
    ).rowcount


# --- postings owed by deferred bulk writes (sql/1301): every user's, by design


def take_backlog_entry(conn: psycopg.Connection) -> dict[str, Any] | None:
    """The oldest backlog entry no other run holds, locked for this transaction."""
    return conn.execute(
        """SELECT id, cardinality(ids) AS rows FROM search_backlog
            ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"""
    ).fetchone()


def index_backlog_entry(conn: psycopg.Connection, entry_id: int) -> int:
    """The entry's postings built from its rows as they are now, the entry removed; postings written."""
    return conn.execute("SELECT search_backlog_index(%s) AS n", (entry_id,)).fetchone()["n"]


def count_backlog(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) AS n FROM search_backlog").fetchone()["n"]


# --- the PostgreSQL engine


def query_words(conn: psycopg.Connection, q: str) -> list[str]:
    return conn.execute("SELECT search_query_words(%s) AS w", (q,)).fetchone()["w"]


def typo_neighbours(conn: psycopg.Connection, words: list[str]) -> list[dict[str, Any]]:
    """(w, word): dictionary words at Levenshtein distance exactly 1 from each of `words`."""
    # Per word, the dictionary words that start with its first half or end with its second
    # half, one character longer, shorter or as long (sql/1302 says why that is every
    # candidate); levenshtein() decides.
    branches: list[sql.Composable] = []
    params: dict[str, Any] = {}
    for i, word in enumerate(words):
        head, tail = word[: len(word) // 2], word[len(word) // 2 :][::-1]
        params.update({f"w{i}": word, f"n{i}": [len(word) - 1, len(word), len(word) + 1]})
        for side, key, start in (
            ("h", sql.SQL('(word COLLATE "C")'), head),
            ("t", sql.SQL('(reverse(word) COLLATE "C")'), tail),
        ):
            params[f"{side}{i}"] = start
            bounds = sql.SQL("{key} >= {start}").format(key=key, start=sql.Placeholder(f"{side}{i}"))
            stop = _after_prefix(start)
            if stop is not None:
                params[f"{side}{i}_stop"] = stop
                bounds += sql.SQL(" AND {key} < {stop}").format(key=key, stop=sql.Placeholder(f"{side}{i}_stop"))
            branches.append(
                sql.SQL(
                    "SELECT {w}::text AS w, word FROM search_dictionary WHERE length(word) = ANY({n}) AND {b}"
                ).format(w=sql.Placeholder(f"w{i}"), n=sql.Placeholder(f"n{i}"), b=bounds)
            )
    query = sql.SQL("SELECT w, word FROM ({}) c WHERE word <> w AND levenshtein(word, w) <= 1 ORDER BY w, word").format(
        sql.SQL(" UNION ").join(branches)
    )
    return conn.execute(query, params).fetchall()


def _after_prefix(prefix: str) -> str | None:
    """The least string above every string that starts with `prefix`, in byte (code point)
    order; None when there is none (an empty prefix, or one ending in U+10FFFF)."""
    if not prefix or prefix[-1] == "\U0010ffff":
        return None
    following = ord(prefix[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates are not characters PostgreSQL stores
        following = 0xE000
    return prefix[:-1] + chr(following)


# The matches come from search_postings (sql/1301): per query word, an index-only scan of
# (scope, word) for the word, its prefix range and its typo neighbours, the best score of a
# row's postings kept, the words' id sets intersected; filters the postings cannot answer
# join the heap for the matched rows only. Rows of a deferred bulk write (search_backlog)
# that have no postings yet are matched through the heap with the same rules. Then one pass
# over the matches for all three facets and the total (GROUPING SETS, hashed), months
# summed from the days (a date_trunc per match costs more than the grouping), and one page.
_SEARCH = """
WITH hits AS MATERIALIZED (
    {hits}
),
counted AS (
    SELECT GROUPING(category_id, merchant, transaction_date) AS set_id, category_id, merchant, transaction_date,
           count(*) AS n
      FROM hits
     GROUP BY GROUPING SETS ((category_id), (merchant), (transaction_date), ())
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
       FROM (SELECT date_trunc('month', transaction_date::timestamp) AS month, sum(n)::bigint AS n
               FROM counted WHERE set_id = 6 GROUP BY 1) f) AS month,
    (SELECT COALESCE(json_agg(json_build_object('id', p.id, 'transaction_date', p.transaction_date,
                                                'created_at', p.created_at, 'score', p.score)), '[]')
       FROM (SELECT * FROM hits WHERE {after}
              ORDER BY score DESC, transaction_date DESC, created_at DESC, id DESC LIMIT {limit}) p) AS page
"""


# How many distinct words a prefix may stand for before its postings are merged by a
# grouping (one index probe per word to list them; beyond, one range scan and a hash).
PREFIX_WORDS_LISTED = 16


def words_present(
    conn: psycopg.Connection,
    visible: Visibility,
    *,
    scopes: list,
    words: list[str],
    prefix: str,
) -> tuple[set[str], list[str] | None]:
    """(those of `words` that the caller's postings hold, the other words of theirs that
    start with `prefix`, or None when there are more than PREFIX_WORDS_LISTED); `visible`:
    Access.visible_postings("p"), `scopes` its scope values. One index probe per word: the
    prefix's words are walked in order, scope by scope (min(word) above the last one)."""
    query = sql.SQL(
        """WITH RECURSIVE listed(scope, word, n) AS (
               SELECT sc, (SELECT min(p.word) FROM search_postings p
                            WHERE p.scope = sc AND {visible} AND p.word > %(prefix)s AND p.word ^@ %(prefix)s), 1
                 FROM unnest(%(scopes)s::uuid[]) AS sc
               UNION ALL
               SELECT l.scope, (SELECT min(p.word) FROM search_postings p
                                 WHERE p.scope = l.scope AND {visible} AND p.word > l.word
                                   AND p.word ^@ %(prefix)s), l.n + 1
                 FROM listed l WHERE l.word IS NOT NULL AND l.n <= %(cap)s)
           SELECT array(SELECT w FROM unnest(%(words)s::text[]) AS w
                         WHERE EXISTS (SELECT 1 FROM search_postings p WHERE {visible} AND p.word = w)) AS words,
                  array(SELECT DISTINCT word FROM listed WHERE word IS NOT NULL ORDER BY 1) AS prefixed"""
    ).format(visible=visible)
    row = conn.execute(
        query, {"words": words, "prefix": prefix, "scopes": scopes, "cap": PREFIX_WORDS_LISTED}
    ).fetchone()
    prefixed = row["prefixed"]
    return set(row["words"]), None if len(prefixed) > PREFIX_WORDS_LISTED else prefixed


def ranked_postings(
    visible: Visibility,
    also_visible: Visibility,
    *,
    alternatives: list[tuple[sql.Composable, sql.Composable]],
    filters: sql.Composable,
) -> sql.Composed:
    """One query word's matching rows (id … merchant, s) from explicit alternatives (word,
    score) in falling score order: each row once, from its best alternative, because each
    branch leaves out the rows an earlier word already gave (a hash anti-join on the id,
    much cheaper than grouping every match). `visible`, `also_visible`:
    Access.visible_postings over p and over e."""
    branches = []
    for j, (word, score) in enumerate(alternatives):
        branch = sql.SQL(
            "SELECT " + _POSTING_COLUMNS + ", {score} AS s FROM search_postings p"
            " WHERE {visible} AND {filters} AND p.word = {word}"
        ).format(score=score, visible=visible, filters=filters, word=word)
        if j:
            earlier = sql.SQL(", ").join(w for w, _ in alternatives[:j])
            branch += sql.SQL(
                " AND NOT EXISTS (SELECT 1 FROM search_postings e WHERE {also_visible}"
                " AND e.word IN ({earlier}) AND e.id = p.id)"
            ).format(also_visible=also_visible, earlier=earlier)
        branches.append(branch)
    return sql.SQL(" UNION ALL ").join(branches)


_POSTING_COLUMNS = "p.id, p.transaction_date, p.created_at, p.category_id, p.merchant"


def word_postings(
    visible: Visibility,
    *,
    words: sql.Composable,
    prefix: sql.Composable | None,
    score: sql.Composable,
    filters: sql.Composable,
    grouped: bool,
) -> sql.Composed:
    """One query word's matching rows (id … merchant, s): postings whose word is one of
    `words` or starts with `prefix`; `score` per posting, the best one per row if `grouped`."""
    select = sql.SQL(
        "SELECT " + _POSTING_COLUMNS + ", {score} AS s FROM search_postings p WHERE {visible} AND {filters}"
    )
    branches = [
        select.format(score=score, visible=visible, filters=filters) + sql.SQL(" AND p.word = ANY({})").format(words)
    ]
    if prefix is not None:
        branches.append(
            select.format(score=score, visible=visible, filters=filters)
            + sql.SQL(" AND p.word > {prefix} AND p.word ^@ {prefix}").format(prefix=prefix)
        )
    union = sql.SQL(" UNION ALL ").join(branches)
    if not grouped:
        return union
    return sql.SQL(
        "SELECT id, transaction_date, created_at, category_id, merchant, max(s) AS s FROM ({}) x GROUP BY 1, 2, 3, 4, 5"
    ).format(union)


def posted_matches(groups: list[sql.Composable], *, heap: Visibility, join_heap: bool) -> sql.Composed:
    """Rows matching every query word (the intersection of the words' id sets), score summed;
    `heap`: conditions on the row itself (alias t: Access.visible and the filters the postings
    cannot answer), joined only if `join_heap`."""
    joins = sql.SQL("").join(
        sql.SQL(" JOIN ({}) g{} ON g{}.id = g0.id").format(g, sql.Literal(i), sql.Literal(i))
        for i, g in enumerate(groups)
        if i
    )
    score = sql.SQL(" + ").join(sql.SQL("g{}.s").format(sql.Literal(i)) for i in range(len(groups)))
    query = sql.SQL(
        "SELECT g0.id, g0.transaction_date, g0.created_at, g0.category_id, g0.merchant, {score} AS score"
        " FROM ({first}) g0{joins}"
    ).format(score=score, first=groups[0], joins=joins)
    if join_heap:
        query += sql.SQL(
            " JOIN transactions t ON t.id = g0.id AND t.transaction_date = g0.transaction_date WHERE {}"
        ).format(heap)
    return query


# A document word's score for query word q.w (the n-th of `nwords`): exact 3, prefix of the
# last word 2, one typo for words of `typo_min` letters or more 1; levenshtein() only on
# words of a near length (it refuses inputs over 255 characters). The words are
# search_words() written out (sql/1301's triggers do the same): repeats and the empty
# piece score nothing more, and the inline form halved a search over 100k owed rows.
_OWED = """SELECT t.id, t.transaction_date, t.created_at, t.category_id, t.merchant, s.score
  FROM search_backlog b
 CROSS JOIN LATERAL unnest(b.ids, b.dates) AS o(id, day)
  JOIN transactions t ON t.id = o.id AND t.transaction_date = o.day
 CROSS JOIN LATERAL (
        SELECT bool_and(m.k > 0) AS ok, sum(m.k)::int AS score
          FROM (SELECT q.n, COALESCE(max(CASE WHEN d.word = q.w THEN 3
                                              WHEN q.n = {nwords} AND d.word ^@ q.w THEN 2
                                              WHEN length(q.w) >= {typo_min}
                                                   AND length(d.word) BETWEEN length(q.w) - 1 AND length(q.w) + 1
                                              THEN CASE WHEN levenshtein(d.word, q.w) <= 1 THEN 1 ELSE 0 END
                                              ELSE 0 END), 0) AS k
                  FROM unnest({words}::text[]) WITH ORDINALITY AS q(w, n)
                  LEFT JOIN unnest(regexp_split_to_array(search_fold(concat_ws(' ', t.description, t.merchant,
                                                                             t.notes, array_to_string(t.tags, ' '))),
                                                         '[^[:alnum:]]+')) AS d(word) ON TRUE
                 GROUP BY q.n) m) s
 WHERE {backlog_visible} AND {where} AND s.ok
   AND NOT EXISTS (SELECT 1 FROM search_postings p WHERE p.id = t.id)"""


def owed_matches(
    access: Access, *, where: Visibility, words: sql.Composable, nwords: int, typo_min: int
) -> sql.Composed:
    """Matching rows of deferred bulk writes whose postings are not built yet (sql/1301),
    read from the heap with the words of search_words(); `where`: Access.visible and the
    filters, over `t`. Rows that already have postings are the other branch's."""
    return sql.SQL(_OWED).format(
        backlog_visible=access.visible_postings("b"),
        where=where,
        words=words,
        nwords=sql.Literal(nwords),
        typo_min=sql.Literal(typo_min),
    )


def owes_postings(conn: psycopg.Connection, visible: Visibility) -> bool:
    """Whether a deferred bulk write the caller may see still waits for its postings
    (`visible`: Access.visible_postings over `b`)."""
    query = sql.SQL("SELECT EXISTS (SELECT 1 FROM search_backlog b WHERE {}) AS owed").format(visible)
    return conn.execute(query).fetchone()["owed"]


def search_statement(
    access: Access,
    *,
    posted: sql.Composable,
    owed: sql.Composable | None,
    after: sql.Composable,
    facet_size: int,
    limit: sql.Composable,
) -> sql.Composed:
    """The search: its hits (from the postings, and the backlog's rows if `owed`), facets over
    all of them and one page; category names only where the caller may read them."""
    return sql.SQL(_SEARCH).format(
        hits=posted if owed is None else sql.SQL("{} UNION ALL {}").format(posted, owed),
        facet_size=sql.Literal(facet_size),
        category_visible=access.category_visible("c"),
        after=after,
        limit=limit,
    )


def transactions_of_page(conn: psycopg.Connection, ids: list[str], dates: list) -> list[dict[str, Any]]:
    """Rows of a page of hits the search scoped (the dates prune the partitions)."""
    query = sql.SQL("SELECT {} FROM transactions WHERE id = ANY(%s::uuid[]) AND transaction_date = ANY(%s::date[])")
    return conn.execute(query.format(TRANSACTION_COLUMNS), (ids, dates)).fetchall()


def fold_all(conn: psycopg.Connection, tokens: list[str]) -> list[str]:
    return conn.execute("SELECT array(SELECT search_fold(x) FROM unnest(%s::text[]) AS x) AS f", (tokens,)).fetchone()[
        "f"
    ]


def category_names(conn: psycopg.Connection, access: Access, ids: Iterable[str]) -> dict[str, str]:
    """Names of the categories the caller may read, by id (facets of the cluster engine)."""
    query = sql.SQL("SELECT c.id::text AS id, c.name FROM categories c WHERE c.id = ANY(%s::uuid[]) AND {}").format(
        access.category_visible("c")
    )
    return {r["id"]: r["name"] for r in conn.execute(query, (list(ids),))}


# --- scope and category search


def account_owner(conn: psycopg.Connection, account_id: UUID) -> dict[str, Any] | None:
    """(user_id, family_id) of an account, for the caller's service to authorize."""
    return conn.execute("SELECT user_id, family_id FROM accounts WHERE id = %s", (account_id,)).fetchone()


_CATEGORY_SEARCH = sql.SQL("""
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


def search_categories(conn: psycopg.Connection, access: Access, *, words: list[str], limit: int) -> list[dict]:
    """Categories the caller may read (the defaults, their own, their families') matching every word."""
    query = _CATEGORY_SEARCH.format(visible=access.category_visible("c"))
    return conn.execute(query, {"words": words, "last": len(words), "max": limit}).fetchall()
