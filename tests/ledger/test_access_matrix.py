"""Every ledger and family route tried by a stranger (404), a family viewer, member and
admin (403 where the role does not allow it) on family-shared resources."""

from datetime import date

from tests.factories import make_account, make_transaction

ROLES = ("stranger", "viewer", "member", "admin")


def _cases(conn, h, make_user):
    """(name, method, path, body, expected status per role); resources are created per call
    so a successful delete by one role does not change what the next role meets."""
    fam = h.family_id
    acc = make_account(conn, h.owner["id"], family_id=fam, opening_balance="10.00")

    def txn():
        return make_transaction(conn, h.owner["id"], acc, "-1.00")

    def cat():
        return conn.execute(
            "INSERT INTO categories (name, family_id) VALUES ('Fam', %s) RETURNING id", (fam,)
        ).fetchone()["id"]

    def spare_member():
        user = make_user()
        conn.execute(
            "INSERT INTO family_members (family_id, user_id, role) VALUES (%s, %s, 'viewer')", (fam, user["id"])
        )
        return user

    day = str(date.today())
    new_txn = {"account_id": str(acc), "amount": "-2.00", "description": "x", "transaction_date": day}
    return [
        ("get family", "GET", lambda: f"/families/{fam}", None, (404, 200, 200, 200)),
        ("patch family", "PATCH", lambda: f"/families/{fam}", {"name": "N"}, (404, 403, 403, 200)),
        ("delete family", "DELETE", lambda: f"/families/{fam}", None, (404, 403, 403, 403)),
        ("list members", "GET", lambda: f"/families/{fam}/members", None, (404, 200, 200, 200)),
        (
            "add member",
            "POST",
            lambda: f"/families/{fam}/members",
            lambda: {"email": make_user()["email"], "role": "viewer"},
            (404, 403, 403, 201),
        ),
        (
            "change member role",
            "PATCH",
            lambda: f"/families/{fam}/members/{spare_member()['id']}",
            {"role": "member"},
            (404, 403, 403, 200),
        ),
        (
            "remove member",
            "DELETE",
            lambda: f"/families/{fam}/members/{spare_member()['id']}",
            None,
            (404, 403, 403, 204),
        ),
        ("list accounts of family", "GET", lambda: f"/accounts?family_id={fam}", None, (404, 200, 200, 200)),
        ("get account", "GET", lambda: f"/accounts/{acc}", None, (404, 200, 200, 200)),
        (
            "create family account",
            "POST",
            lambda: "/accounts",
            {"name": "A", "type": "checking", "family_id": str(fam)},
            (404, 403, 403, 201),
        ),
        ("patch account", "PATCH", lambda: f"/accounts/{acc}", {"name": "B"}, (404, 403, 403, 200)),
        (
            "delete account",
            "DELETE",
            lambda: f"/accounts/{make_account(conn, h.owner['id'], family_id=fam)}",
            None,
            (404, 403, 403, 204),
        ),
        ("get category", "GET", lambda: f"/categories/{cat()}", None, (404, 200, 200, 200)),
        (
            "create family category",
            "POST",
            lambda: "/categories",
            {"name": "C", "family_id": str(fam)},
            (404, 403, 403, 201),
        ),
        ("patch category", "PATCH", lambda: f"/categories/{cat()}", {"name": "D"}, (404, 403, 403, 200)),
        ("delete category", "DELETE", lambda: f"/categories/{cat()}", None, (404, 403, 403, 204)),
        ("list transactions of account", "GET", lambda: f"/transactions?account_id={acc}", None, (404, 200, 200, 200)),
        ("create transaction", "POST", lambda: "/transactions", new_txn, (404, 403, 201, 201)),
        ("get transaction", "GET", lambda: f"/transactions/{txn()}", None, (404, 200, 200, 200)),
        ("patch transaction", "PATCH", lambda: f"/transactions/{txn()}", {"notes": "n"}, (404, 403, 200, 200)),
        ("delete transaction", "DELETE", lambda: f"/transactions/{txn()}", None, (404, 403, 204, 204)),
        (
            "start receipt upload",
            "POST",
            lambda: f"/transactions/{txn()}/receipt",
            {"content_type": "image/png"},
            (404, 403, 201, 201),
        ),
        ("get receipt (none uploaded)", "GET", lambda: f"/transactions/{txn()}/receipt", None, (404, 404, 404, 404)),
    ]


def test_access_matrix(api, household, make_user, conn):
    h = household
    failures = []
    for name, method, path, body, expected in _cases(conn, h, make_user):
        for role, want in zip(ROLES, expected, strict=True):
            payload = body() if callable(body) else body
            r = api.call(method, path(), getattr(h, role), payload)
            if r.status != want:
                failures.append(f"{name} as {role}: {r.status} (expected {want}) {r.body}")
            elif want in (403, 404):
                assert r.body["error"]["code"] == {403: "forbidden", 404: "not_found"}[want]
    assert failures == []


def test_a_stranger_cannot_tell_a_foreign_id_from_a_missing_one(api, household, conn):
    h = household
    acc = make_account(conn, h.owner["id"], family_id=h.family_id)
    t = make_transaction(conn, h.owner["id"], acc, "-1.00")
    missing = "00000000-0000-0000-0000-00000000abcd"
    for path in ("/accounts/{}", "/transactions/{}", "/categories/{}", "/families/{}"):
        real_id = {"/accounts/{}": acc, "/transactions/{}": t, "/families/{}": h.family_id}.get(path, missing)
        foreign = api.get(path.format(real_id), h.stranger)
        absent = api.get(path.format(missing), h.stranger)
        assert foreign.status == absent.status == 404
        assert foreign.body["error"]["code"] == absent.body["error"]["code"]
    assert api.get("/transactions/not-a-uuid", h.stranger).status == 404
