"""The search_vector row trigger (sql/1231) gives every row the words the original
definition (search_words, sql/0601) gives it."""

import pytest

from tests.factories import make_account

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


@pytest.mark.parametrize("description, merchant, notes, tags", TEXTS)
def test_trigger_words_equal_search_words(conn, make_user, description, merchant, notes, tags):
    user = make_user()
    account = make_account(conn, user["id"])
    row = conn.execute(
        """INSERT INTO transactions (user_id, account_id, amount, description, merchant, notes, tags, transaction_date)
           VALUES (%s, %s, -1, %s, %s, %s, %s, CURRENT_DATE)
        RETURNING search_vector::text AS stored,
                  array_to_tsvector(search_words(description, merchant, notes, array_to_string(tags, ' ')))::text
                      AS defined""",
        (user["id"], account, description, merchant, notes, tags),
    ).fetchone()
    assert row["stored"] == row["defined"]


def test_an_update_of_the_text_rebuilds_the_words(conn, make_user):
    user = make_user()
    account = make_account(conn, user["id"])
    row = conn.execute(
        """INSERT INTO transactions (user_id, account_id, amount, description, transaction_date)
           VALUES (%s, %s, -1, 'Old Shop', CURRENT_DATE) RETURNING id""",
        (user["id"], account),
    ).fetchone()
    stored = conn.execute(
        "UPDATE transactions SET merchant = 'Nouveau Café', tags = '{x}' WHERE id = %s RETURNING search_vector::text",
        (row["id"],),
    ).fetchone()["search_vector"]
    assert stored == "'cafe' 'nouveau' 'old' 'shop' 'x'"
