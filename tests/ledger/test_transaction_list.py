"""GET /transactions: filters, order, keyset cursor, archive, scope."""

from datetime import date, timedelta

from tests.factories import default_category, make_account, make_transaction

D = date.today().replace(day=1) - timedelta(days=1)  # last day of last month


def _ids(reply):
    return [t["id"] for t in reply.body["items"]]


def test_filters(api, household, conn):
    h = household
    user = h.member
    acc = make_account(conn, user["id"])
    joint = make_account(conn, h.owner["id"], family_id=h.family_id)
    food = default_category(conn, "Groceries", "Food & Dining")
    a = make_transaction(
        conn,
        user["id"],
        acc,
        "-10.00",
        day=D,
        description="Weekly GROCERIES",
        merchant="Aldi",
        category_id=food,
        tags=["food"],
    )
    b = make_transaction(
        conn,
        user["id"],
        acc,
        "-99.50",
        day=D - timedelta(days=3),
        description="Shoes",
        merchant="Shoe 100% Shop",
        status="pending",
    )
    c = make_transaction(
        conn, h.owner["id"], joint, "2500.00", day=D - timedelta(days=10), description="Salary", merchant="ACME_Corp"
    )
    mine = lambda q: set(_ids(api.get(f"/transactions?{q}", user)))  # noqa: E731

    assert mine("") == {str(a), str(b), str(c)}
    assert mine(f"account_id={acc}") == {str(a), str(b)}
    assert mine(f"category_id={food}") == {str(a)}
    assert mine(f"family_id={h.family_id}") == {str(c)}
    assert mine(f"from={D - timedelta(days=3)}&to={D - timedelta(days=1)}") == {str(b)}
    assert mine("min_amount=-50&max_amount=-5") == {str(a)}
    assert mine("min_amount=0") == {str(c)}
    assert mine("status=pending") == {str(b)}
    assert mine("tag=food") == {str(a)}
    assert mine("merchant=aldi") == {str(a)}
    assert mine("q=groceries") == {str(a)}
    assert mine("q=ALDI") == {str(a)}
    assert mine("q=100%25") == {str(b)}
    assert mine("q=E_C") == {str(c)}
    assert mine("q=_") == {str(c)}
    assert mine("q=nothing") == set()
    assert api.get(f"/transactions?from={D}&to={D - timedelta(days=1)}", user).status == 400
    assert api.get("/transactions?min_amount=5&max_amount=1", user).status == 400
    assert api.get("/transactions?from=2025-02-30", user).status == 400
    assert api.get("/transactions?limit=201", user).status == 400
    assert api.get("/transactions?status=nope", user).status == 400


def test_scope_and_ids_the_caller_cannot_read(api, household, conn):
    h = household
    secret = make_account(conn, h.stranger["id"])
    make_transaction(conn, h.stranger["id"], secret, "-1.00", description="secret")
    theirs = api.post("/categories", h.stranger, {"name": "Theirs"}).body["id"]
    assert _ids(api.get("/transactions", h.member)) == []
    assert api.get(f"/transactions?account_id={secret}", h.member).status == 404
    assert api.get(f"/transactions?category_id={theirs}", h.member).status == 404
    assert api.get(f"/transactions?family_id={h.family_id}", h.stranger).status == 404


def test_newest_first_and_the_cursor_walks_every_row_once(api, make_user, conn):
    user = make_user()
    acc = make_account(conn, user["id"])
    ids = [
        make_transaction(conn, user["id"], acc, f"-{i + 1}.00", day=D - timedelta(days=i % 4 * 20)) for i in range(13)
    ]
    expected = [
        str(r["id"])
        for r in conn.execute("SELECT id FROM transactions ORDER BY transaction_date DESC, created_at DESC, id DESC")
    ]
    seen, cursor = [], None
    while True:
        r = api.get("/transactions?limit=5" + (f"&cursor={cursor}" if cursor else ""), user)
        assert r.status == 200
        seen += _ids(r)
        cursor = r.body["next_cursor"]
        if cursor is None:
            break
    assert seen == expected and len(seen) == len(ids)
    assert api.get("/transactions?cursor=not-a-cursor", user).status == 400
    assert api.get("/transactions?cursor=WyJ4Il0", user).status == 400


def test_archived_rows_only_with_include_archived(api, make_user, conn):
    user = make_user()
    acc = make_account(conn, user["id"])
    live = make_transaction(conn, user["id"], acc, "-1.00", day=D)
    old = make_transaction(conn, user["id"], acc, "-2.00", day=date(2019, 3, 4), description="Old rent")
    conn.execute(
        """WITH moved AS (DELETE FROM transactions WHERE id = %s RETURNING *)
           INSERT INTO transactions_archive SELECT * FROM moved""",
        (old,),
    )
    assert _ids(api.get("/transactions", user)) == [str(live)]
    assert _ids(api.get("/transactions?include_archived=true", user)) == [str(live), str(old)]
    assert _ids(api.get("/transactions?include_archived=true&q=rent", user)) == [str(old)]
    page = api.get("/transactions?include_archived=true&limit=1", user).body
    assert _ids(api.get(f"/transactions?include_archived=true&cursor={page['next_cursor']}", user)) == [str(old)]
    assert api.get(f"/transactions/{old}", user).body["description"] == "Old rent"
