"""search_postings (sql/1301): the words of every row, kept exact by the statement triggers
through every kind of write, deferred by bulk writes and built later by index_backlog(),
and never a way to see another person's rows."""

from datetime import date, timedelta

import pytest

from chalicelib.infra import db
from chalicelib.search.postings import index_backlog
from tests.factories import make_account, make_family, make_transaction
from tests.search import postings_check
from tests.search.conftest import search

TEXTS = [
    ("STARBUCKS STORE 1234 SEATTLE WA", None, None, None),
    ("Café Zürich — Straße Ærø", "Crêperie «Chez Léa»", "note: 50% off!!", ["trip", "Ski-Urlaub"]),
    ("AMZN Mktp US*1A2B3 amzn.com/bill", "Amazon", None, []),
    ("  ", None, None, None),
    ("---", "***", "", ["", "x"]),
    ("repeat repeat REPEAT Repeat", "repeat", "repeat", ["repeat"]),
    ("Кофейня «Ромашка» Москва", None, "оплата картой", None),
    ("東京 ラーメン 123", None, None, ["食べ物"]),
    ("İstanbul ŞEHİR Hatları ½ ² ① ٣", "ǅemal", None, None),
    ("tab\tand\nnew line\\back", "emoji ☕ coffee", None, ["a b", "c,d"]),
]


def _words(conn, tx_id) -> list[str]:
    return [r["word"] for r in conn.execute("SELECT word FROM search_postings WHERE id = %s ORDER BY word", (tx_id,))]


@pytest.mark.parametrize("description, merchant, notes, tags", TEXTS)
def test_a_new_row_has_one_posting_per_word_of_search_words(conn, make_user, description, merchant, notes, tags):
    user = make_user()
    account = make_account(conn, user["id"])
    tx = make_transaction(
        conn, user["id"], account, "-1", description=description, merchant=merchant, notes=notes, tags=tags
    )
    expected = conn.execute(
        """SELECT array(SELECT w FROM unnest(search_words(description, merchant, notes, array_to_string(tags, ' ')))
                       AS w ORDER BY w COLLATE "C") AS w FROM transactions WHERE id = %s""",
        (tx,),
    ).fetchone()["w"]
    assert _words(conn, tx) == expected
    assert not postings_check.drift(conn)


def test_updates_moves_and_deletes_keep_the_postings_exact(conn, make_user):
    owner, other = make_user(), make_user()
    family = make_family(conn, owner["id"])
    account = make_account(conn, owner["id"])
    rows = [make_transaction(conn, owner["id"], account, "-5", description=f"Shop {i}") for i in range(4)]
    category = conn.execute("SELECT id FROM categories WHERE is_default LIMIT 1").fetchone()["id"]

    conn.execute("UPDATE transactions SET merchant = 'Nouveau Café', tags = '{x}' WHERE id = %s", (rows[0],))
    assert _words(conn, rows[0]) == ["0", "cafe", "nouveau", "shop", "x"]
    conn.execute("UPDATE transactions SET category_id = %s, status = 'cancelled' WHERE id = %s", (category, rows[1]))
    # A new date in another month moves the row to another partition.
    conn.execute(
        "UPDATE transactions SET transaction_date = %s WHERE id = %s", (date.today() - timedelta(days=45), rows[2])
    )
    conn.execute("UPDATE transactions SET family_id = %s WHERE account_id = %s", (family, account))
    conn.execute("UPDATE transactions SET amount = -6")  # no posting column: nothing to rewrite
    conn.execute("DELETE FROM transactions WHERE id = %s", (rows[3],))
    assert not postings_check.drift(conn)
    assert _words(conn, rows[3]) == []
    scopes = {r["scope"] for r in conn.execute("SELECT scope FROM search_postings")}
    assert scopes == {family}

    # The family deleted (erasure): its rows go by ON DELETE CASCADE, and their postings with them.
    conn.execute("DELETE FROM family_groups WHERE id = %s", (family,))
    assert conn.execute("SELECT count(*) AS n FROM search_postings").fetchone()["n"] == 0
    make_transaction(conn, other["id"], make_account(conn, other["id"]), "-1", description="Kept")
    conn.execute("DELETE FROM users WHERE id = %s", (owner["id"],))
    assert [r["word"] for r in conn.execute("SELECT word FROM search_postings")] == ["kept"]


def _deferred_insert(conn, user, account, descriptions: list[str]) -> None:
    """Rows written the way the import writes them: one statement under SET LOCAL fiscaflow.search_deferred."""
    with conn.transaction():
        conn.execute("SET LOCAL fiscaflow.search_deferred = 'on'")
        conn.execute(
            """INSERT INTO transactions (user_id, account_id, amount, description, merchant, transaction_date)
               SELECT %s, %s, -1, d, 'Corner Shop', CURRENT_DATE - (n %% 40)::int
                 FROM unnest(%s::text[]) WITH ORDINALITY AS x(d, n)""",
            (user["id"], account, descriptions),
        )


def test_a_deferred_write_is_owed_searched_through_the_heap_and_indexed_by_the_job(conn, make_user, client):
    user, stranger = make_user(), make_user()
    account = make_account(conn, user["id"])
    make_transaction(conn, user["id"], account, "-2", description="Coffee beans", merchant="Roastery")
    _deferred_insert(conn, user, account, [f"Coffee {i} latte" for i in range(30)] + ["Groceries"])

    owed = conn.execute("SELECT scope, cardinality(ids) AS n FROM search_backlog").fetchall()
    assert owed == [{"scope": user["id"], "n": 31}]
    assert conn.execute("SELECT count(*) AS n FROM search_postings").fetchone()["n"] == 3  # the first row only
    queries = [
        {"q": "coffee"},
        {"q": "coffe"},  # prefix
        {"q": "cofee latte"},  # one typo, the dictionary does not know "latte" yet
        {"q": "latte", "limit": 7},
        {"q": "shop coffee", "from": str(date.today() - timedelta(days=10))},
        {"q": "coffee", "merchant": "corner shop", "min_amount": "-1.50"},
    ]
    during = [search(client, user, **q) for q in queries]
    assert during[0][1]["total"] == 31 and during[2][1]["total"] == 30
    assert search(client, stranger, "coffee")[1]["total"] == 0

    report = index_backlog()
    assert (report.entries, report.rows, report.pending) == (1, 31, 0)
    assert not postings_check.drift(conn)
    assert conn.execute("SELECT count(*) AS n FROM search_backlog").fetchone()["n"] == 0
    after = [search(client, user, **q) for q in queries]
    assert after == during
    assert search(client, stranger, "coffee")[1]["total"] == 0


def test_an_owed_row_updated_before_the_job_is_found_once(conn, make_user, client):
    user = make_user()
    account = make_account(conn, user["id"])
    _deferred_insert(conn, user, account, ["Bakery bread", "Bakery cake"])
    conn.execute("UPDATE transactions SET notes = 'birthday' WHERE description = 'Bakery cake'")

    status, body = search(client, user, "bakery")
    assert status == 200 and body["total"] == 2 and len(body["items"]) == 2
    assert search(client, user, "birthday")[1]["total"] == 1
    index_backlog()
    assert search(client, user, "bakery")[1] == body
    assert not postings_check.drift(conn)


def test_the_search_sync_schedule_builds_owed_postings(conn, make_user):
    from chalicelib.search.sync import run_search_sync

    user = make_user()
    _deferred_insert(conn, user, make_account(conn, user["id"]), ["Cinema"])
    report = run_search_sync()
    assert report.postings_rows == 1
    assert conn.execute("SELECT count(*) AS n FROM search_backlog").fetchone()["n"] == 0
    assert _words(conn, conn.execute("SELECT id FROM transactions").fetchone()["id"]) == ["cinema", "corner", "shop"]


def test_two_jobs_at_once_build_each_entry_once(conn, make_user):
    import threading

    user = make_user()
    account = make_account(conn, user["id"])
    for i in range(6):
        _deferred_insert(conn, user, account, [f"Entry {i}"])
    reports = []
    threads = [threading.Thread(target=lambda: reports.append(index_backlog())) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.entries for r in reports) == 6
    assert not postings_check.drift(conn)
    with db.transaction() as c:
        assert c.execute("SELECT count(*) AS n FROM search_backlog").fetchone()["n"] == 0


def test_an_owed_row_moved_to_another_month_keeps_its_postings_through_the_job(conn, make_user, client):
    user = make_user()
    _deferred_insert(conn, user, make_account(conn, user["id"]), ["Florist roses"])
    moved = date.today() - timedelta(days=200)  # outside the entry's date range
    conn.execute("UPDATE transactions SET transaction_date = %s", (moved,))

    assert search(client, user, "roses")[1]["total"] == 1
    index_backlog()
    assert search(client, user, "roses")[1]["total"] == 1
    assert not postings_check.drift(conn)


def test_a_prefix_of_many_words_answers_as_one_of_few(conn, make_user, client, monkeypatch):
    """The words of a prefix listed one by one (ranked, anti-joined) or, past
    PREFIX_WORDS_LISTED, scanned as a range and grouped: the same answer."""
    from chalicelib.search import repo

    user = make_user()
    account = make_account(conn, user["id"])
    for description in ["Star", "Starbucks", "Starling bank", "Star starbucks", "Stardust", "Start up", "Stars"]:
        make_transaction(conn, user["id"], account, "-3", description=description, merchant="Stall")
    # One edit from "star", which has four letters: no typo allowed, so never a match of "star".
    make_transaction(conn, user["id"], account, "-3", description="Strar")
    queries = [{"q": "star"}, {"q": "stall star"}, {"q": "starbucks"}, {"q": "start"}, {"q": "sta", "limit": 3}]
    listed = [search(client, user, **q) for q in queries]
    monkeypatch.setattr(repo, "PREFIX_WORDS_LISTED", 1)
    grouped = [search(client, user, **q) for q in queries]
    assert listed == grouped
    assert listed[0][1]["total"] == 7
    scores = {i["transaction"]["description"]: i["score"] for i in listed[0][1]["items"]}
    assert scores["Star"] == scores["Star starbucks"] == 3 and scores["Starbucks"] == scores["Stars"] == 2
    # "start": exact for one row, one typo from "star" and "stars", and the prefix of nothing else.
    assert {i["transaction"]["description"]: i["score"] for i in listed[3][1]["items"]} == {
        "Start up": 3,
        "Star": 1,
        "Star starbucks": 1,
        "Stars": 1,
    }
    assert listed[4][1]["total"] == 7 and len(listed[4][1]["items"]) == 3


def test_only_the_last_word_stands_for_the_words_it_prefixes(conn, make_user, client):
    """Regression: the words listed for the last word's prefix were offered to the other words too."""
    user = make_user()
    account = make_account(conn, user["id"])
    make_transaction(conn, user["id"], account, "-3", description="Coffee", merchant="Starbucks")
    make_transaction(conn, user["id"], account, "-3", description="Starbucks refill")

    assert search(client, user, "coffee star")[1]["total"] == 1
    assert search(client, user, "star coffee")[1]["total"] == 0  # "star" is not the last word: whole word only
    assert search(client, user, "starbucks star")[1]["total"] == 2
    assert search(client, user, "refill star")[1]["total"] == 1
    assert search(client, user, "star starbucks")[1]["total"] == 0


def test_a_one_row_edit_after_a_bulk_update_deletes_its_postings_by_index(database_url, conn, make_user):
    # PL/pgSQL would keep the plan its first run made for the size of that run's transition
    # table: a one-row edit after a bulk update then scanned every posting (sql/1301 runs the
    # triggers' statements through EXECUTE for that reason).
    user = make_user()
    account = make_account(conn, user["id"])
    conn.execute(
        """INSERT INTO transactions (user_id, account_id, amount, description, merchant, transaction_date)
           SELECT %s, %s, -1, 'Bulk ' || g || ' coffee beans', 'Roastery', CURRENT_DATE - (g %% 60)
             FROM generate_series(1, 4000) g""",
        (user["id"], account),
    )
    conn.execute("ANALYZE search_postings")
    one = conn.execute("SELECT id FROM transactions WHERE account_id = %s LIMIT 1", (account,)).fetchone()["id"]
    plans: list[str] = []
    with db.connect(database_url, autocommit=True) as session:
        session.add_notice_handler(lambda diag: plans.append(diag.message_primary or ""))
        session.execute("LOAD 'auto_explain'")
        with session.transaction():
            for setting, value in (
                ("auto_explain.log_min_duration", "0"),
                ("auto_explain.log_level", "notice"),
                ("auto_explain.log_nested_statements", "on"),
                ("client_min_messages", "notice"),
            ):
                session.execute("SELECT set_config(%s, %s, true)", (setting, value))
            session.execute("UPDATE transactions SET notes = 'all' WHERE account_id = %s", (account,))
            plans.clear()
            session.execute("UPDATE transactions SET notes = 'one' WHERE id = %s", (one,))
    deletes = [p for p in plans if "Delete on search_postings" in p]
    assert deletes, plans
    assert all("idx_search_postings_id" in p for p in deletes), deletes
    assert "one" in _words(conn, one) and "all" not in _words(conn, one)  # the edit, not the rolled-back bulk one
