"""A file imports only into an account its user may add transactions to; anything else is
recorded as a failed import for that user and leaves the account untouched."""

import uuid
from decimal import Decimal

from tests.factories import make_account, make_family
from tests.imports.conftest import balance_of, fixture_bytes, transactions_of

CSV = "us_chase_checking.csv"


def _failed_for(conn, user_id) -> list[dict]:
    return conn.execute("SELECT * FROM data_sync_logs WHERE user_id = %s", (user_id,)).fetchall()


def test_a_drop_into_another_users_account_is_refused(conn, make_user, owner, checking, run_import):
    stranger = make_user()

    record = run_import(stranger["id"], checking, CSV)

    assert record["status"] == "failed"
    assert record["error_message"].startswith("Account not found")
    assert record["user_id"] == stranger["id"]
    # The stranger's record does not point at the owner's account row.
    assert record["account_id"] is None and record["metadata"]["account_id"] == str(checking)
    assert transactions_of(conn, checking) == []
    assert balance_of(conn, checking) == Decimal("100.00")
    assert _failed_for(conn, owner["id"]) == []


def test_a_foreign_account_and_a_missing_one_read_the_same(conn, make_user, checking, run_import):
    stranger = make_user()

    foreign = run_import(stranger["id"], checking, CSV)
    missing = run_import(stranger["id"], uuid.uuid4(), CSV)

    assert foreign["error_message"] == missing["error_message"]
    assert (foreign["account_id"], missing["account_id"]) == (None, None)


def test_a_family_viewer_may_not_import_but_a_member_may(conn, make_user, owner, run_import):
    viewer, member = make_user(), make_user()
    family = make_family(conn, owner["id"], members={viewer["id"]: "viewer", member["id"]: "member"})
    shared = make_account(conn, owner["id"], family_id=family)

    refused = run_import(viewer["id"], shared, CSV)
    accepted = run_import(member["id"], shared, "us_chase_credit.csv")

    assert refused["status"] == "failed" and "viewer" in refused["error_message"]
    assert accepted["status"] == "completed"
    rows = transactions_of(conn, shared)
    assert len(rows) == 4
    assert {r["user_id"] for r in rows} == {member["id"]}
    assert {r["family_id"] for r in rows} == {family}


def test_keys_that_name_no_user_are_ignored_without_a_record(conn, checking, drop, deliver):
    deliver(drop(f"imports/{uuid.uuid4()}/{checking}/i/x.csv", fixture_bytes(CSV)))
    deliver(drop(f"imports/not-a-user/{checking}/i/x.csv", fixture_bytes(CSV)))
    deliver(drop("imports/loose-file.csv", fixture_bytes(CSV)))

    assert conn.execute("SELECT count(*) AS n FROM data_sync_logs").fetchone()["n"] == 0
    assert transactions_of(conn, checking) == []


def test_an_unparseable_account_segment_is_a_failed_import_for_the_user(conn, owner, checking, drop, deliver):
    key = f"imports/{owner['id']}/savings-account/i/x.csv"
    deliver(drop(key, fixture_bytes(CSV)))

    record = conn.execute("SELECT * FROM data_sync_logs WHERE file_key = %s", (key,)).fetchone()
    assert record["status"] == "failed" and record["account_id"] is None
    assert transactions_of(conn, checking) == []
