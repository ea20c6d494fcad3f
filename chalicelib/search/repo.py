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


# --- the PostgreSQL engine


def query_words(conn: psycopg.Connection, q: str) -> list[str]:
    return conn.execute("SELECT search_query_words(%s) AS w", (q,)).fetchone()["w"]


def typo_neighbours(conn: psycopg.Connection, words: list[str]) -> list[dict[str, Any]]:
    """(w, word): dictionary words at Levenshtein distance exactly 1 from each of `words`."""
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
        (words,),
    )
    return conn.execute(
        """SELECT q.w, d.word
             FROM unnest(%s::text[]) AS q(w)
             JOIN LATERAL (SELECT word FROM search_dictionary
                            WHERE word %% q.w AND word <> q.w
                              AND length(word) BETWEEN length(q.w) - 1 AND length(q.w) + 1
                              AND levenshtein(word, q.w) <= 1) d ON TRUE
            ORDER BY q.w, d.word""",
        (words,),
    ).fetchall()


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


def search_statement(
    access: Access,
    *,
    where: Visibility,
    score: sql.Composable,
    after: sql.Composable,
    facet_size: int,
    limit: sql.Composable,
    template: str | None = None,
) -> sql.Composed:
    """The search: its hits (`where`: Access.visible and the filters, over `t`), facets
    over all of them and one page; category names only where the caller may read them."""
    return sql.SQL(template or _SEARCH).format(
        score=score,
        where=where,
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
