"""DELETE /users/me: personal data erased everywhere, family data kept with the family."""

import json
import re
from datetime import UTC, date, datetime

import pyotp
import pytest

from chalicelib.audit.service import record_audit
from chalicelib.auth.passwords import hash_password
from chalicelib.auth.twofactor import SECRET_CONTEXT
from chalicelib.core.actor import Actor
from chalicelib.infra import crypto, storage
from chalicelib.retention.service import run_retention
from tests.factories import make_account, make_family, make_transaction

TODAY = datetime.now(UTC).date()
PASSWORD = "ann's long erasure passphrase"
_PASSWORD_HASH = hash_password(PASSWORD)


def _can_sign_in(conn, user, *, totp_secret=None):
    """Give a factory user a real password (and 2FA), as DELETE /users/me asks for them again."""
    conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", (_PASSWORD_HASH, user["id"]))
    if totp_secret:
        conn.execute(
            "UPDATE users SET totp_secret_enc = %s, two_factor_enabled = true WHERE id = %s",
            (crypto.encrypt(totp_secret, context=SECRET_CONTEXT), user["id"]),
        )
    user["totp_secret"] = totp_secret
    return user


def _erase(client, user):
    body = {"password": PASSWORD}
    if user.get("totp_secret"):
        body["totp_code"] = pyotp.TOTP(user["totp_secret"]).now()
    return client.http.delete("/users/me", headers=user["headers"], body=json.dumps(body))


def _rows_mentioning(conn, *needles: str) -> dict[str, int]:
    """Every table, each row as text, searched for the needles (case-insensitive)."""
    tables = [
        r["relname"]
        for r in conn.execute(
            """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"""
        )
    ]
    found = {}
    for table in tables:
        for needle in needles:
            n = conn.execute(
                f'SELECT count(*) AS n FROM "{table}" t WHERE t::text ILIKE %s', (f"%{needle}%",)
            ).fetchone()["n"]
            if n:
                found[f"{table}:{needle}"] = n
    return found


@pytest.fixture
def world(conn, client, make_user):
    """Ann (to be erased) owns a family with Bob (admin) and Cy (viewer), and a family of
    her own; she has personal money data, auth state, files and an audit trail."""
    ann = make_user(email="ann.erasable@example.com", first_name="Annabelle", last_name="Zwirbelhuber")
    bob = make_user(first_name="Bob", last_name="Keeper")
    cy = make_user()
    family = make_family(conn, ann["id"], name="Household", members={bob["id"]: "admin", cy["id"]: "viewer"})
    solo_family = make_family(conn, ann["id"], name="Ann alone")
    r = client.http.patch(
        "/users/me",
        body=json.dumps({"phone": "+1 555 010 9999", "date_of_birth": "1980-02-03"}),
        headers=ann["headers"],
    )
    assert r.status_code == 200, r.body
    conn.execute(
        "UPDATE users SET last_login_at = now() WHERE id = %s",
        (ann["id"],),
    )
    _can_sign_in(conn, ann, totp_secret=pyotp.random_base32())
    conn.execute(
        "INSERT INTO totp_recovery_codes (user_id, code_hash) VALUES (%s, 'h1'), (%s, 'h2')", (ann["id"], ann["id"])
    )
    conn.execute(
        """INSERT INTO auth_email_tokens (user_id, purpose, token_digest, expires_at)
           VALUES (%s, 'verify_email', 'digest-ann', now() + interval '1 day')""",
        (ann["id"],),
    )
    conn.execute(
        """INSERT INTO user_sessions (user_id, refresh_token, expires_at, ip_address, user_agent, device_info)
           VALUES (%s, 'second-device', now() + interval '9 days', '203.0.113.9', 'AnnPhone/1.0',
                   '{"name": "Ann phone"}')""",
        (ann["id"],),
    )
    personal = make_account(conn, ann["id"], name="Ann private", opening_balance="10.00")
    shared = make_account(conn, ann["id"], name="Household bills", family_id=family, opening_balance="100.00")
    solo = make_account(conn, ann["id"], name="Solo", family_id=solo_family)
    private_tx = make_transaction(conn, ann["id"], personal, "-9.99", merchant="Secret Shop")
    old_private = make_transaction(conn, ann["id"], personal, "-1.00", day=date(TODAY.year - 7, 1, 5))
    shared_by_ann = make_transaction(conn, ann["id"], shared, "-40.00", description="Groceries", family_id=family)
    shared_by_bob = make_transaction(conn, bob["id"], shared, "-15.00", description="Power bill", family_id=family)
    old_shared = make_transaction(conn, bob["id"], shared, "-2.00", day=date(TODAY.year - 7, 1, 6), family_id=family)
    make_transaction(conn, ann["id"], solo, "-3.00", family_id=solo_family)
    conn.execute(
        "UPDATE transactions SET receipt_url = %s WHERE id = %s",
        (f"attachments/{ann['id']}/receipts/{shared_by_ann}.jpg", shared_by_ann),
    )
    run_retention()  # the old rows are archived: erasure reaches the archive too
    category = conn.execute(
        "INSERT INTO categories (name, user_id) VALUES ('Ann hobby', %s) RETURNING id", (ann["id"],)
    ).fetchone()["id"]
    conn.execute(
        """INSERT INTO budgets (user_id, name, period_type, start_date, total_amount)
           VALUES (%s, 'Ann budget', 'monthly', %s, 100)""",
        (ann["id"], TODAY),
    )
    conn.execute(
        """INSERT INTO budgets (user_id, family_id, name, period_type, start_date, total_amount)
           VALUES (%s, %s, 'Family budget', 'monthly', %s, 500)""",
        (ann["id"], family, TODAY),
    )
    conn.execute(
        "INSERT INTO goals (user_id, name, goal_type, target_amount) VALUES (%s, 'Ann goal', 'savings', 50)",
        (ann["id"],),
    )
    conn.execute(
        "INSERT INTO categorization_rules (user_id, category_id, pattern) VALUES (%s, %s, 'hobby')",
        (ann["id"], category),
    )
    conn.execute(
        "INSERT INTO notifications (user_id, type, title, message) VALUES (%s, 'system', 'Hi Annabelle', 'x')",
        (ann["id"],),
    )
    conn.execute(
        """INSERT INTO idempotency_keys (user_id, idempotency_key, method, path, request_hash, status_code,
                                         response_body)
           VALUES (%s, 'k1', 'POST', '/accounts', 'h', 201,
                   '{"name": "Ann private", "email": "ann.erasable@example.com"}')""",
        (ann["id"],),
    )
    actor = Actor(
        user_id=ann["id"], session_id=ann["session_id"], ip_address="198.51.100.7", user_agent="AnnBrowser/2.0"
    )
    from chalicelib.infra import db

    with db.transaction() as tx:
        record_audit(
            tx,
            actor=actor,
            action="user.updated",
            resource_type="user",
            resource_id=ann["id"],
            data={"email": "ann.erasable@example.com", "first_name": "Annabelle", "note": "by Annabelle Zwirbelhuber"},
        )
    for key in (
        f"imports/{ann['id']}/{personal}/statement.csv",
        f"exports/{ann['id']}/x/report.csv",
        f"attachments/{ann['id']}/receipts/{shared_by_ann}.jpg",
        f"imports/{bob['id']}/{shared}/bob.csv",
    ):
        storage.put_bytes(key, b"data")
    return {
        "ann": ann,
        "bob": bob,
        "cy": cy,
        "family": family,
        "solo_family": solo_family,
        "personal": personal,
        "shared": shared,
        "tx": {
            "private": private_tx,
            "old_private": old_private,
            "shared_by_ann": shared_by_ann,
            "shared_by_bob": shared_by_bob,
            "old_shared": old_shared,
        },
    }


def test_erasure_leaves_no_personal_data_in_the_database(conn, client, world):
    ann = world["ann"]

    r = _erase(client, ann)

    assert r.status_code == 204, r.body
    user = conn.execute("SELECT * FROM users WHERE id = %s", (ann["id"],)).fetchone()
    assert user["status"] == "deleted" and user["deleted_at"] is not None
    assert re.fullmatch(r"erased-[0-9a-f]{32}@erased\.invalid", user["email"])
    for column in (
        "first_name",
        "last_name",
        "phone",
        "phone_enc",
        "phone_hash",
        "date_of_birth",
        "date_of_birth_enc",
        "totp_secret_enc",
        "last_login_at",
    ):
        assert user[column] is None, column
    assert user["password_hash"] == "!erased" and user["two_factor_enabled"] is False
    leftovers = _rows_mentioning(
        conn,
        "ann.erasable",
        "Annabelle",
        "Zwirbelhuber",
        "Ann private",
        "Secret Shop",
        "AnnPhone",
        "AnnBrowser",
        "203.0.113.9",
        "198.51.100.7",
        "Ann hobby",
        "Ann goal",
        "Ann budget",
        "Ann alone",
    )
    assert leftovers == {}
    for table in (
        "user_sessions",
        "totp_recovery_codes",
        "auth_email_tokens",
        "notifications",
        "idempotency_keys",
        "budgets WHERE family_id IS NULL AND user_id",
        "goals WHERE user_id",
        "categorization_rules WHERE user_id",
    ):
        sql = (
            f"SELECT count(*) AS n FROM {table} = %s"
            if "WHERE" in table
            else f"SELECT count(*) AS n FROM {table} WHERE user_id = %s"
        )
        assert conn.execute(sql, (ann["id"],)).fetchone()["n"] == 0, table
    assert (
        conn.execute(
            "SELECT count(*) AS n FROM transactions_archive WHERE id = %s", (world["tx"]["old_private"],)
        ).fetchone()["n"]
        == 0
    )


def test_the_audit_trail_stays_masked_and_the_erasure_is_recorded(conn, client, world):
    ann = world["ann"]
    kept_before = conn.execute("SELECT count(*) AS n FROM audit_logs WHERE user_id = %s", (ann["id"],)).fetchone()["n"]

    assert _erase(client, ann).status_code == 204

    rows = conn.execute("SELECT * FROM audit_logs WHERE user_id = %s ORDER BY created_at", (ann["id"],)).fetchall()
    assert len(rows) == kept_before + 1
    assert all(r["ip_address"] is None and r["user_agent"] is None for r in rows)
    updated = next(r for r in rows if r["action"] == "user.updated" and "note" in (r["resource_data"] or {}))
    assert updated["resource_data"] == {"email": "[erased]", "first_name": "[erased]", "note": "[erased]"}
    erased = rows[-1]
    assert erased["action"] == "user.erased" and erased["resource_id"] == ann["id"]
    assert erased["resource_data"]["families_handed_over"] == 1 and erased["resource_data"]["families_deleted"] == 1


def test_shared_family_data_stays_with_the_family_and_ownership_passes_on(conn, client, world):
    ann, bob, cy = world["ann"], world["bob"], world["cy"]
    before = client.http.get("/transactions", headers=cy["headers"])
    assert before.status_code == 200

    assert _erase(client, ann).status_code == 204

    family = conn.execute("SELECT owner_id FROM family_groups WHERE id = %s", (world["family"],)).fetchone()
    assert family["owner_id"] == bob["id"]
    roles = {
        r["user_id"]: r["role"]
        for r in conn.execute("SELECT user_id, role FROM family_members WHERE family_id = %s", (world["family"],))
    }
    assert roles == {bob["id"]: "owner", cy["id"]: "viewer"}
    seen = {item["id"] for item in json.loads(client.http.get("/transactions", headers=cy["headers"]).body)["items"]}
    assert {str(world["tx"]["shared_by_ann"]), str(world["tx"]["shared_by_bob"])} <= seen
    assert str(world["tx"]["private"]) not in seen
    account = client.http.get(f"/accounts/{world['shared']}", headers=bob["headers"])
    assert account.status_code == 200
    assert (
        conn.execute("SELECT receipt_url FROM transactions WHERE id = %s", (world["tx"]["shared_by_ann"],)).fetchone()[
            "receipt_url"
        ]
        is None
    )
    assert (
        conn.execute(
            "SELECT count(*) AS n FROM transactions_archive WHERE id = %s", (world["tx"]["old_shared"],)
        ).fetchone()["n"]
        == 1
    )
    # The family Ann was alone in is gone with its data.
    assert (
        conn.execute("SELECT count(*) AS n FROM family_groups WHERE id = %s", (world["solo_family"],)).fetchone()["n"]
        == 0
    )
    assert (
        conn.execute("SELECT count(*) AS n FROM accounts WHERE family_id = %s", (world["solo_family"],)).fetchone()["n"]
        == 0
    )
    # Balances of what stays are still exact.
    shared = conn.execute(
        """SELECT a.balance, a.opening_balance
                  + COALESCE((SELECT sum(amount) FROM transactions
                               WHERE account_id = a.id AND status <> 'cancelled'), 0)
                  + COALESCE((SELECT sum(amount) FROM transactions_archive
                               WHERE account_id = a.id AND status <> 'cancelled'), 0) AS expected
             FROM accounts a WHERE a.id = %s""",
        (world["shared"],),
    ).fetchone()
    assert shared["balance"] == shared["expected"]


def test_their_files_are_deleted_and_others_are_not(conn, client, world):
    ann, bob = world["ann"], world["bob"]

    assert _erase(client, ann).status_code == 204

    for prefix in ("imports", "exports", "attachments"):
        assert list(storage.list_keys(f"{prefix}/{ann['id']}/")) == []
    assert list(storage.list_keys(f"imports/{bob['id']}/")) != []


def test_the_erased_token_stops_working(conn, client, world):
    ann = world["ann"]
    assert _erase(client, ann).status_code == 204

    assert client.http.get("/users/me", headers=ann["headers"]).status_code == 401
    assert _erase(client, ann).status_code == 401


def test_a_table_added_later_is_found_through_the_schema(conn, client, make_user):
    ann = _can_sign_in(conn, make_user())
    conn.execute(
        """CREATE TABLE test_erasure_devices (user_id UUID REFERENCES users(id) ON DELETE CASCADE, label TEXT);
           CREATE TABLE test_erasure_reviews (reviewer UUID REFERENCES users(id) ON DELETE SET NULL, body TEXT)"""
    )
    try:
        conn.execute("INSERT INTO test_erasure_devices VALUES (%s, 'ann laptop')", (ann["id"],))
        conn.execute("INSERT INTO test_erasure_reviews VALUES (%s, 'a review')", (ann["id"],))

        assert _erase(client, ann).status_code == 204

        assert conn.execute("SELECT count(*) AS n FROM test_erasure_devices").fetchone()["n"] == 0
        assert conn.execute("SELECT reviewer FROM test_erasure_reviews").fetchone()["reviewer"] is None
    finally:
        conn.execute("DROP TABLE test_erasure_devices, test_erasure_reviews")


def test_a_failing_storage_commits_nothing(conn, client, world, monkeypatch):
    ann = world["ann"]

    def unreachable(prefix):
        raise ConnectionError("storage down")

    monkeypatch.setattr(storage, "delete_prefix", unreachable)
    r = _erase(client, ann)

    assert r.status_code == 500
    user = conn.execute("SELECT status, first_name FROM users WHERE id = %s", (ann["id"],)).fetchone()
    assert (user["status"], user["first_name"]) == ("active", "Annabelle")
    assert conn.execute("SELECT count(*) AS n FROM accounts WHERE id = %s", (world["personal"],)).fetchone()["n"] == 1
