"""The invariant of sql/1301: search_postings holds, for every live transaction that no
search_backlog entry owes, exactly one posting per distinct word of search_words() of the
row, with the row's scope and posting columns; no posting of a row that is gone. A row
still owed may have no postings yet, or (updated since) exactly the right ones. Checked
after every test (tests/conftest.py) and in tests/search/test_postings.py."""

_EXPECTED = """SELECT COALESCE(t.family_id, t.user_id) AS scope, w AS word, t.id, t.transaction_date, t.created_at,
                      t.family_id, t.category_id, t.merchant
                 FROM transactions t
                CROSS JOIN LATERAL unnest(search_words(t.description, t.merchant, t.notes,
                                                        array_to_string(t.tags, ' '))) AS w
                WHERE {which}"""
_STORED = """SELECT p.scope, p.word::text, p.id, p.transaction_date, p.created_at, p.family_id, p.category_id,
                    p.merchant
               FROM search_postings p WHERE {which}"""
_OWED = "EXISTS (SELECT 1 FROM search_backlog b WHERE {alias}.id = ANY(b.ids))"
_HAS_POSTINGS = "EXISTS (SELECT 1 FROM search_postings q WHERE q.id = {alias}.id)"
# Rows not owed, and owed rows that already have postings, must match exactly.
_CHECKED = f"(NOT {_OWED} OR {_HAS_POSTINGS})"
DRIFT = f"""SELECT 'missing' AS what, * FROM ({_EXPECTED.format(which=_CHECKED.format(alias="t"))}
                                            EXCEPT ALL {_STORED.format(which=_CHECKED.format(alias="p"))}) a
            UNION ALL
            SELECT 'extra', * FROM ({_STORED.format(which=_CHECKED.format(alias="p"))}
                                    EXCEPT ALL {_EXPECTED.format(which=_CHECKED.format(alias="t"))}) b"""


def drift(conn) -> list:
    """Postings that differ from the rows' words (empty when exact)."""
    return conn.execute(DRIFT).fetchall()
