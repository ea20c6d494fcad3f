"""Issue 16 fault suite: the S3 server stopped during an import and during an export (a
private moto server; the shared one on 9000 is never touched). moto keeps objects in
memory, so a restarted one is empty: as after losing a file, the retry must say so."""

import csv
import io
import json
from datetime import date

import pytest
from chalice.test import Client

from tests.factories import make_account, make_transaction
from tests.imports.conftest import s3_event

STATEMENT = b"date,description,amount\n2024-05-01,Coffee,-3.50\n2024-05-02,Salary,1000.00\n2024-05-03,Rent,-700.00\n"


@pytest.fixture
def app_on_private_s3(services, private_s3, point_app_at):
    point_app_at(S3_ENDPOINT_URL=private_s3.url)
    from chalicelib.infra import storage

    storage.ensure_bucket()
    from app import app

    with Client(app, stage_name="test") as c:
        yield c


def _ensure_bucket_again():
    from chalicelib.infra import storage

    storage.reset()
    storage.ensure_bucket()


def test_s3_stopped_during_an_export_fails_clearly_and_a_new_request_succeeds(
    app_on_private_s3, private_s3, conn, make_user
):
    from chalicelib.exports import builder

    c = app_on_private_s3
    user = make_user()
    account = make_account(conn, user["id"], name="Main")
    for day in range(1, 6):
        make_transaction(conn, user["id"], account, "-2.00", day=date(2024, 3, day))
    request = json.dumps({"format": "csv", "from": "2024-03-01", "to": "2024-03-31"})

    # Storage down when the export is requested: refused, and no job is left pending.
    private_s3.stop()
    r = c.http.post("/exports", body=request, headers=user["headers"])
    assert r.status_code == 503 and json.loads(r.body)["error"]["code"] == "service_unavailable"
    assert conn.execute("SELECT count(*) AS n FROM export_jobs").fetchone()["n"] == 0

    # Storage goes away between the request and the build: the job fails with a message.
    private_s3.start()
    _ensure_bucket_again()
    r = c.http.post("/exports", body=request, headers=user["headers"])
    assert r.status_code == 202, r.body
    first = json.loads(r.body)["id"]
    private_s3.stop()
    assert builder.build_export(user_id=user["id"], job_id=first) == "failed"
    shown = json.loads(c.http.get(f"/exports/{first}", headers=user["headers"]).body)
    assert shown["status"] == "failed" and "request the export again" in shown["error_message"]
    assert shown.get("download_url") is None

    # A new request once storage is back builds the whole file.
    private_s3.start()
    _ensure_bucket_again()
    r = c.http.post("/exports", body=request, headers=user["headers"])
    second = json.loads(r.body)["id"]
    assert builder.build_export(user_id=user["id"], job_id=second) == "completed"
    shown = json.loads(c.http.get(f"/exports/{second}", headers=user["headers"]).body)
    assert shown["status"] == "completed" and shown["rows"] == 5

    from chalicelib.infra import storage

    (key,) = [k for k in storage.list_keys(f"exports/{user['id']}/") if k.endswith(".csv")]
    rows = list(csv.DictReader(io.StringIO(storage.get_bytes(key).decode("utf-8-sig"))))
    assert len(rows) == 5  # the whole file, from the second job only
    assert str(first) not in key


def test_s3_stopped_during_an_import_writes_nothing_and_a_new_upload_imports(
    app_on_private_s3, private_s3, conn, make_user
):
    from chalicelib.imports.processing import import_object
    from chalicelib.infra import storage

    c = app_on_private_s3
    user = make_user()
    account = make_account(conn, user["id"], name="Main", opening_balance="50.00")

    def upload() -> dict:
        r = c.http.post(
            "/imports", body=json.dumps({"account_id": str(account), "filename": "may.csv"}), headers=user["headers"]
        )
        assert r.status_code == 201, r.body
        created = json.loads(r.body)
        etag = storage.put_bytes(created["key"], STATEMENT, content_type="text/csv")
        return {**created, "event": s3_event(storage.bucket(), created["key"], etag, len(STATEMENT))}

    def deliver(event: dict):
        record = event["Records"][0]["s3"]
        from urllib.parse import unquote_plus

        return import_object(
            bucket=record["bucket"]["name"],
            key=unquote_plus(record["object"]["key"]),
            etag=record["object"]["eTag"],
            size=record["object"]["size"],
        )

    first = upload()
    private_s3.stop()
    # A transient failure: the handler raises so that S3/Lambda deliver the event again.
    with pytest.raises(Exception):
        deliver(first["event"])
    assert conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"] == 0

    # Delivered again once storage is back, but the file is gone (moto lost it): failed, clearly.
    private_s3.start()
    _ensure_bucket_again()
    assert deliver(first["event"]).status == "failed"
    shown = json.loads(c.http.get(f"/imports/{first['import_id']}", headers=user["headers"]).body)
    assert shown["status"] == "failed" and "no longer in the bucket" in shown["error_message"]
    assert conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"] == 0

    # A new upload is imported whole.
    second = upload()
    assert deliver(second["event"]).status == "completed"
    shown = json.loads(c.http.get(f"/imports/{second['import_id']}", headers=user["headers"]).body)
    assert shown["status"] == "completed" and shown["transactions_added"] == 3
    balance = conn.execute("SELECT balance FROM accounts WHERE id = %s", (account,)).fetchone()["balance"]
    assert str(balance) == "346.50"
