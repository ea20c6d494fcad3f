"""Issue 16, item 10: family roles were read without a lock by writes racing a removal,
so a removed member's write could commit after the removal had. A write now re-reads the
role it relies on FOR SHARE in its own transaction."""

import json
from datetime import date

import psycopg
import pytest

from chalicelib.families.access import WRITE_TRANSACTIONS, load_access
from chalicelib.infra import db
from chalicelib.ledger.transactions import service as transactions_service
from tests.factories import make_account, make_family


def _household(conn, make_user):
    owner, member = make_user(), make_user()
    family_id = make_family(conn, owner["id"], members={member["id"]: "member"})
    return owner, member, family_id, make_account(conn, owner["id"], name="Household", family_id=family_id)


def test_a_removal_committed_after_the_roles_were_read_refuses_the_write(client, conn, db_url, make_user, monkeypatch):
    _, member, family_id, shared = _household(conn, make_user)
    real_load_access = transactions_service.load_access

    def removed_right_after_the_read(c, user_id):
        access = real_load_access(c, user_id)
        with db.connect(db_url, autocommit=True) as other:  # the owner's removal, committed meanwhile
            other.execute("DELETE FROM family_members WHERE family_id = %s AND user_id = %s", (family_id, user_id))
        return access

    monkeypatch.setattr(transactions_service, "load_access", removed_right_after_the_read)
    body = {"account_id": str(shared), "amount": "-9.99", "description": "After removal",
            "transaction_date": date.today().isoformat()}  # fmt: skip

    r = client.http.post("/transactions", body=json.dumps(body), headers=member["headers"])

    assert r.status_code == 404
    assert conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"] == 0


def test_a_removal_waits_for_a_write_that_relies_on_the_role(conn, db_url, make_user, services):
    _, member, family_id, _ = _household(conn, make_user)

    with db.transaction() as writing:
        load_access(writing, member["id"]).require_family(family_id, WRITE_TRANSACTIONS)
        with db.connect(db_url, autocommit=True) as remover:
            remover.execute("SET lock_timeout = '300ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                remover.execute(
                    "DELETE FROM family_members WHERE family_id = %s AND user_id = %s", (family_id, member["id"])
                )

    with db.connect(db_url, autocommit=True) as remover:  # once the write is over, the removal goes through
        deleted = remover.execute(
            "DELETE FROM family_members WHERE family_id = %s AND user_id = %s", (family_id, member["id"])
        ).rowcount
    assert deleted == 1


def test_reading_takes_no_lock(conn, db_url, make_user, services):
    _, member, family_id, _ = _household(conn, make_user)

    with db.transaction() as reading:
        load_access(reading, member["id"]).require_family(family_id)
        with db.connect(db_url, autocommit=True) as remover:
            remover.execute("SET lock_timeout = '300ms'")
            remover.execute(
                "DELETE FROM family_members WHERE family_id = %s AND user_id = %s", (family_id, member["id"])
            )
