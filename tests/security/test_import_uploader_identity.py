"""Issue 16, item 1: nobody checked who wrote a dropped statement. The import handler took
the user from imports/{user}/{account}/… and trusted whoever could write there, so one
user booked transactions into another's account by editing the path of a presigned URL.
Now a file is imported only when the event's writer (userIdentity.principalId) may write
there; anything else is a failed import "not written by an allowed uploader"."""

import json
import uuid

import pytest

from chalicelib.imports.drop_credentials import session_policy
from chalicelib.imports.uploaders import NOT_ALLOWED, session_name
from chalicelib.infra import storage
from chalicelib.infra.settings import get_settings
from tests.factories import make_account
from tests.imports.conftest import s3_event

CSV = b"date,description,amount\n2026-11-02,Coffee,-3.50\n2026-11-03,Salary,1000.00\n"


@pytest.fixture
def alice_and_bob(conn, make_user):
    alice, bob = make_user(), make_user()
    alice["account"] = make_account(conn, alice["id"], name="Alice checking")
    bob["account"] = make_account(conn, bob["id"], name="Bob checking")
    return alice, bob


@pytest.fixture
def landed(services):
    """Put a file under `key` and deliver its event as S3/MinIO would, naming the writer."""
    import app as app_module

    def land(key, *, writer, data=CSV):
        etag = storage.put_bytes(key, data, content_type="text/csv")
        event = s3_event(storage.bucket(), key, etag, len(data))
        if writer is not ...:  # ... leaves userIdentity out, as moto's server does
            event["Records"][0]["userIdentity"] = {"principalId": writer}
        app_module.statement_uploaded(event, None)

    return land


def _import(conn, key):
    return conn.execute(
        "SELECT status, error_message, user_id FROM data_sync_logs WHERE file_key = %s", (key,)
    ).fetchone()


def _transactions(conn, account_id):
    return conn.execute("SELECT count(*) AS n FROM transactions WHERE account_id = %s", (account_id,)).fetchone()["n"]


def _post(client, user, path, body):
    return client.http.post(path, headers=user["headers"], body=json.dumps(body))


def test_a_presigned_upload_imports_when_post_imports_created_that_key(client, conn, alice_and_bob, landed):
    alice, _ = alice_and_bob
    created = json.loads(
        _post(client, alice, "/imports", {"account_id": str(alice["account"]), "filename": "nov.csv"}).body
    )

    landed(created["key"], writer=get_settings().import_app_principal_id)

    assert _import(conn, created["key"])["status"] == "completed"
    assert _transactions(conn, alice["account"]) == 2


def test_an_edited_presigned_path_is_a_failed_import_of_the_victim_and_books_nothing(
    client, conn, alice_and_bob, landed
):
    alice, bob = alice_and_bob
    created = json.loads(_post(client, bob, "/imports", {"account_id": str(bob["account"]), "filename": "x.csv"}).body)
    edited = created["key"].replace(
        f"imports/{bob['id']}/{bob['account']}/", f"imports/{alice['id']}/{alice['account']}/"
    )

    landed(edited, writer=get_settings().import_app_principal_id)

    record = _import(conn, edited)
    assert record["status"] == "failed" and record["error_message"] == NOT_ALLOWED
    assert record["user_id"] == alice["id"]
    assert _transactions(conn, alice["account"]) == 0
    listed = json.loads(client.http.get("/imports", headers=alice["headers"]).body)["items"]
    assert [(i["file_key"], i["status"]) for i in listed] == [(edited, "failed")]


def test_an_unknown_writer_or_an_anonymous_one_is_refused(conn, alice_and_bob, landed):
    alice, _ = alice_and_bob
    for writer in ("AWS:AIDASOMEONEELSE", ""):
        key = f"imports/{alice['id']}/{alice['account']}/{uuid.uuid4()}/drop.csv"
        landed(key, writer=writer)
        assert _import(conn, key)["status"] == "failed"
    assert _transactions(conn, alice["account"]) == 0


def test_a_file_from_a_writer_who_may_not_drop_there_cannot_be_confirmed_into_the_ledger(
    client, conn, alice_and_bob, landed
):
    alice, _ = alice_and_bob
    key = f"imports/{alice['id']}/{alice['account']}/{uuid.uuid4()}/drop.csv"
    landed(key, writer="AWS:AIDASOMEONEELSE")
    record = conn.execute("SELECT id, error_code FROM data_sync_logs WHERE file_key = %s", (key,)).fetchone()
    assert record["error_code"] == "uploader_not_allowed"

    response = _post(client, alice, f"/imports/{record['id']}/confirm", {})

    assert response.status_code == 409
    assert _transactions(conn, alice["account"]) == 0


def test_an_operator_principal_named_in_settings_may_drop_anywhere(conn, alice_and_bob, landed, monkeypatch):
    alice, _ = alice_and_bob
    monkeypatch.setenv("IMPORT_OPERATOR_PRINCIPALS", "AWS:AIDABANKSYNC, bank-sync-job")
    get_settings.cache_clear()
    try:
        key = f"imports/{alice['id']}/{alice['account']}/{uuid.uuid4()}/bank.csv"
        landed(key, writer="bank-sync-job")
        assert _import(conn, key)["status"] == "completed"
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_with_no_writer_reported_drops_are_trusted_as_before(conn, alice_and_bob, landed):
    alice, _ = alice_and_bob
    key = f"imports/{alice['id']}/{alice['account']}/{uuid.uuid4()}/local.csv"

    landed(key, writer=...)

    assert _import(conn, key)["status"] == "completed"


def test_drop_credentials_are_issued_confined_and_recognised_as_their_users(client, conn, alice_and_bob, landed):
    alice, bob = alice_and_bob

    r = _post(client, alice, "/imports/credentials", {})

    assert r.status_code == 200, r.body
    issued = json.loads(r.body)
    assert set(issued) == {"access_key_id", "secret_access_key", "session_token", "expires_at", "bucket", "prefix"}
    assert issued["prefix"] == f"imports/{alice['id']}/" and issued["bucket"] == storage.bucket()
    stored = conn.execute("SELECT user_id, role_session_name FROM import_drop_credentials").fetchone()
    assert stored == {"user_id": alice["id"], "role_session_name": session_name(alice["id"])}

    own = f"imports/{alice['id']}/{alice['account']}/{uuid.uuid4()}/sync.csv"
    landed(own, writer=issued["access_key_id"])  # MinIO names the access key
    assert _import(conn, own)["status"] == "completed"
    as_s3 = f"imports/{alice['id']}/{alice['account']}/{uuid.uuid4()}/sync2.csv"
    landed(as_s3, writer=f"AWS:AROA3X42LBCD2XL7EEN54:{session_name(alice['id'])}")  # S3 names the role session
    assert _import(conn, as_s3)["status"] == "completed"
    elsewhere = f"imports/{bob['id']}/{bob['account']}/{uuid.uuid4()}/sync.csv"
    landed(elsewhere, writer=issued["access_key_id"])
    assert _import(conn, elsewhere)["status"] == "failed" and _transactions(conn, bob["account"]) == 0


def test_credentials_for_one_account_need_write_access_to_it(client, conn, alice_and_bob):
    alice, bob = alice_and_bob

    stranger = _post(client, alice, "/imports/credentials", {"account_id": str(bob["account"])})
    own = _post(client, alice, "/imports/credentials", {"account_id": str(alice["account"])})

    assert stranger.status_code == 404
    assert json.loads(own.body)["prefix"] == f"imports/{alice['id']}/{alice['account']}/"


def test_the_session_policy_puts_only_under_the_prefix():
    policy = session_policy(bucket="b", prefix="imports/u/")

    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert actions == {"s3:PutObject", "s3:ListBucket"}
    assert policy["Statement"][0]["Resource"] == ["arn:aws:s3:::b/imports/u/*"]
    assert policy["Statement"][1]["Condition"] == {"StringLike": {"s3:prefix": ["imports/u/*"]}}
