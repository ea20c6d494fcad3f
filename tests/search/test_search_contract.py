"""API.md "Search", run against every engine (Elasticsearch only with a cluster)."""

from datetime import date

from tests import factories
from tests.search.conftest import found, search


def _setup(conn, make_user):
    user = make_user()
    account = factories.make_account(conn, user["id"])
    return user, account


def test_words_are_anded_across_description_merchant_notes_and_tags(engine, conn, make_user, ledger, client):
    user, account = _setup(conn, make_user)
    ledger.add(user, account, description="Flat white", merchant="Downtown Roasters")
    ledger.add(user, account, description="Flat rent", merchant="Landlord", notes="downtown apartment")
    ledger.add(user, account, description="Groceries", merchant="Market", tags=["weekly", "downtown"])
    ledger.add(user, account, description="Flat tyre", merchant="Garage")
    engine.settle()

    assert sorted(found(client, user, "flat downtown")) == ["Flat rent", "Flat white"]
    assert found(client, user, "groceries downtown") == ["Groceries"]
    assert found(client, user, "flat weekly") == []


def test_the_last_word_matches_as_a_prefix_and_the_others_do_not(engine, conn, make_user, ledger, client):
    user, account = _setup(conn, make_user)
    ledger.add(user, account, description="Coffee", merchant="Starbucks")
    engine.settle()

    assert found(client, user, "star") == ["Coffee"]
    assert found(client, user, "coffee star") == ["Coffee"]
    assert found(client, user, "star coffee") == []  # "star" is not the last word: whole word only


def test_one_typo_from_five_letters_not_at_four_and_a_swap_is_two(engine, conn, make_user, ledger, client):
    user, account = _setup(conn, make_user)
    ledger.add(user, account, description="Order 1", merchant="Amazon")
    ledger.add(user, account, description="Books", merchant="Kobo")
    engine.settle()

    assert found(client, user, "amazom") == ["Order 1"]  # substitution
    assert found(client, user, "amazn") == ["Order 1"]  # deletion, 5 letters
    assert found(client, user, "amazoon") == ["Order 1"]  # insertion
    assert found(client, user, "amzn") == []  # four letters: no typo allowed
    assert found(client, user, "amaozn") == []  # neighbours swapped: two edits
    assert found(client, user, "kobi") == []  # four letters
    assert found(client, user, "amazom order") == ["Order 1"]  # a typo in a word that is not last


def test_the_last_word_is_a_prefix_or_one_typo_never_both(engine, conn, make_user, ledger, client):
    user, account = _setup(conn, make_user)
    ledger.add(user, account, description="Latte", merchant="Starbucks")
    engine.settle()

    assert found(client, user, "starbuc") == ["Latte"]  # prefix
    assert found(client, user, "starbucsk") == []  # swap: two edits
    assert found(client, user, "starbocks") == ["Latte"]  # one substitution, whole word
    assert found(client, user, "stxrbuc") == []  # would need a typo AND a prefix


def test_case_and_accents_do_not_matter(engine, conn, make_user, ledger, client):
    user, account = _setup(conn, make_user)
    ledger.add(user, account, description="Café Crème", merchant="Crêperie Zürich")
    engine.settle()

    assert found(client, user, "cafe creme") == ["Café Crème"]
    assert found(client, user, "CAFÉ") == ["Café Crème"]
    assert found(client, user, "zurich") == ["Café Crème"]
    assert found(client, user, "creperie") == ["Café Crème"]


def test_facets_count_the_whole_result_not_the_page(engine, conn, make_user, ledger, client):
    user, account = _setup(conn, make_user)
    groceries = factories.default_category(conn, "Groceries", "Food & Dining")
    for i in range(30):
        ledger.add(
            user,
            account,
            description=f"Grocery run {i}",
            merchant="Tesco",
            category_id=groceries,
            day=date(2026, 9, 1 + i % 28),
        )
    for i in range(12):
        ledger.add(user, account, description=f"Grocery top-up {i}", merchant="Lidl", day=date(2026, 10, 1 + i))
    ledger.add(user, account, description="Cinema", merchant="Tesco", day=date(2026, 10, 5))
    engine.settle()

    status, body = search(client, user, "grocery", limit=5)

    assert status == 200
    assert body["total"] == 42
    assert len(body["items"]) == 5 and body["next_cursor"]
    assert body["facets"]["category"] == [
        {"id": str(groceries), "name": "Groceries", "count": 30},
        {"id": None, "name": None, "count": 12},
    ]
    assert body["facets"]["merchant"] == [{"value": "Tesco", "count": 30}, {"value": "Lidl", "count": 12}]
    assert body["facets"]["month"] == [{"value": "2026-09", "count": 30}, {"value": "2026-10", "count": 12}]
    assert body["engine"] == engine.name


def test_pages_follow_the_cursor_without_gaps_or_repeats(engine, conn, make_user, ledger, client):
    user, account = _setup(conn, make_user)
    ids = {str(ledger.add(user, account, description=f"Parking {i}", day=date(2026, 8, 1 + i % 20))) for i in range(23)}
    engine.settle()

    seen, cursor = [], None
    while True:
        status, body = search(client, user, "parking", limit=10, **({"cursor": cursor} if cursor else {}))
        assert status == 200
        seen += [item["transaction"]["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == 23 and set(seen) == ids
    dates = [d for d in (search(client, user, "parking", limit=200)[1]["items"])]
    assert [i["transaction"]["transaction_date"] for i in dates] == sorted(
        (i["transaction"]["transaction_date"] for i in dates), reverse=True
    )


def test_relevance_first_then_newest(engine, conn, make_user, ledger, client):
    user, account = _setup(conn, make_user)
    ledger.add(user, account, description="Tesko typo", day=date(2026, 10, 3))
    ledger.add(user, account, description="Tesco old", day=date(2026, 1, 1))
    ledger.add(user, account, description="Tesco new", day=date(2026, 10, 1))
    engine.settle()

    assert found(client, user, "tesco") == ["Tesco new", "Tesco old", "Tesko typo"]


def test_highlights_wrap_matches_in_em_and_escape_the_rest(engine, conn, make_user, ledger, client):
    user, account = _setup(conn, make_user)
    ledger.add(user, account, description="Coffee <b>beans</b> & cake", merchant="Starbucks Reserve", notes="coffee")
    engine.settle()

    status, body = search(client, user, "coffee star")

    assert status == 200
    (item,) = body["items"]
    assert item["highlight"]["description"] == ["<em>Coffee</em> &lt;b&gt;beans&lt;/b&gt; &amp; cake"]
    assert item["highlight"]["merchant"] == ["<em>Starbucks</em> Reserve"]
    assert item["score"] > 0
    tx = item["transaction"]
    assert tx["amount"] == "-10.00" and tx["notes"] == "coffee" and tx["tags"] == []
    assert set(tx) == {
        "id", "user_id", "family_id", "account_id", "category_id", "amount", "currency", "description", "merchant",
        "location", "transaction_date", "posted_date", "status", "categorization_source",
        "categorization_confidence", "tags", "notes", "receipt_url", "external_id", "created_at", "updated_at",
    }  # fmt: skip


def test_a_field_without_a_match_has_no_highlight(engine, conn, make_user, ledger, client):
    user, account = _setup(conn, make_user)
    ledger.add(user, account, description="Monthly plan", merchant="Vodafone")
    engine.settle()

    (item,) = search(client, user, "vodafone")[1]["items"]
    assert item["highlight"] == {"merchant": ["<em>Vodafone</em>"]}


def test_a_stranger_finds_nothing_and_cannot_filter_on_foreign_accounts(engine, conn, make_user, ledger, client):
    owner, account = _setup(conn, make_user)
    stranger = make_user()
    ledger.add(owner, account, description="Private pharmacy")
    engine.settle()

    assert found(client, stranger, "pharmacy") == []
    assert search(client, stranger, "pharmacy", account_id=str(account))[0] == 404


def test_a_family_viewer_finds_family_transactions_but_not_personal_ones(engine, conn, make_user, ledger, client):
    owner = make_user()
    viewer = make_user()
    family = factories.make_family(conn, owner["id"], members={viewer["id"]: "viewer"})
    shared = factories.make_account(conn, owner["id"], family_id=family, name="Joint")
    personal = factories.make_account(conn, owner["id"], name="Mine")
    ledger.add(owner, shared, description="Shared groceries")
    ledger.add(owner, personal, description="Personal groceries")
    engine.settle()

    assert found(client, viewer, "groceries") == ["Shared groceries"]
    assert sorted(found(client, owner, "groceries")) == ["Personal groceries", "Shared groceries"]
    assert found(client, viewer, "groceries", family_id=str(family)) == ["Shared groceries"]
    outsider = make_user()
    assert search(client, outsider, "groceries", family_id=str(family))[0] == 404


def test_writes_and_deletes_are_visible_once_settled(engine, conn, make_user, ledger, client):
    user, account = _setup(conn, make_user)
    tx = ledger.add(user, account, description="Gym membership")
    engine.settle()
    assert found(client, user, "gym") == ["Gym membership"]

    ledger.update(tx, description="Yoga membership")
    engine.settle()
    assert found(client, user, "gym") == []
    assert found(client, user, "yoga") == ["Yoga membership"]

    ledger.delete(tx)
    engine.settle()
    assert found(client, user, "yoga") == []


def test_filters_of_the_transaction_list_apply(engine, conn, make_user, ledger, client):
    user, account = _setup(conn, make_user)
    other = factories.make_account(conn, user["id"], name="Card", type="credit_card")
    ledger.add(user, account, "-5.00", description="Taxi a", day=date(2026, 3, 1), merchant="Uber", tags=["work"])
    ledger.add(user, account, "-50.00", description="Taxi b", day=date(2026, 4, 1), status="pending")
    ledger.add(user, other, "-500.00", description="Taxi c", day=date(2026, 5, 1), merchant="UBER")
    engine.settle()

    assert sorted(found(client, user, "taxi", account_id=str(account))) == ["Taxi a", "Taxi b"]
    assert found(client, user, "taxi", min_amount="-60", max_amount="-10") == ["Taxi b"]
    assert found(client, user, "taxi", status="pending") == ["Taxi b"]
    assert found(client, user, "taxi", tag="work") == ["Taxi a"]
    assert sorted(found(client, user, "taxi", merchant="uber")) == ["Taxi a", "Taxi c"]
    assert found(client, user, "taxi", **{"from": "2026-03-15", "to": "2026-04-30"}) == ["Taxi b"]


def test_query_syntax_characters_are_plain_text(engine, conn, make_user, ledger, client):
    user, account = _setup(conn, make_user)
    ledger.add(user, account, description="AT&T bill", merchant="AT&T")
    ledger.add(user, account, description="Amazon order")
    engine.settle()

    assert found(client, user, '"amazon" & | ! ( ) : * \\') == ["Amazon order"]
    assert found(client, user, "amazon:*") == ["Amazon order"]
    assert found(client, user, "at&t") == ["AT&T bill"]
    assert found(client, user, "amazon | at") == []  # | is not OR: both words are required
    assert found(client, user, "!amazon") == ["Amazon order"]  # ! is not NOT
    status, body = search(client, user, '*:()&|!"\\')
    assert status == 200 and body["items"] == [] and body["total"] == 0


def test_q_is_required_not_blank_and_at_most_200_characters(engine, make_user, client):
    user = make_user()
    for params in ({}, {"q": ""}, {"q": "   "}, {"q": "a" * 201}):
        status, body = search(client, user, **params)
        assert status == 400 and body["error"]["code"] == "validation_error", params
    assert search(client, user, "a" * 200)[0] == 200


def test_a_bad_cursor_is_a_validation_error(engine, make_user, client):
    user = make_user()
    status, body = search(client, user, "tea", cursor="not-a-cursor")
    assert status == 400 and body["error"]["details"][0]["field"] == "cursor"
