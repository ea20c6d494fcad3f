"""POST/GET /exports: the contract's shapes, validation that creates nothing, scoping."""

import json

import pytest

from chalicelib.infra import storage
from tests.exports.helpers import deliver, get_export, job_keys, request_export, run_export
from tests.factories import make_account, make_family


def _jobs(conn) -> int:
    return conn.execute("SELECT count(*) AS n FROM export_jobs").fetchone()["n"]


def test_post_answers_202_pending_and_drops_a_job_object(client, ledger, conn):
    response = request_export(client, ledger.user, format="csv")

    assert response.status_code == 202
    body = json.loads(response.body)
    assert set(body) == {"id", "status", "format", "created_at"}
    assert (body["status"], body["format"]) == ("pending", "csv")
    assert body["created_at"].endswith("+00:00")
    assert job_keys(ledger.user["id"]) == [f"exports/{ledger.user['id']}/{body['id']}/job.json"]
    job_object = json.loads(storage.get_bytes(job_keys()[0]))
    assert job_object["id"] == body["id"] and job_object["from"] == "2024-01-01"
    # Nothing is built inside the request.
    export = get_export(client, ledger.user, body["id"])
    assert export["status"] == "pending" and export["rows"] == 0 and export["download_url"] is None
    audit = conn.execute("SELECT action, resource_type FROM audit_logs WHERE resource_id = %s", (body["id"],))
    assert audit.fetchall() == [{"action": "export.create", "resource_type": "export"}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": "2024-03-01", "to": "2024-01-01"}, "to"),
        ({"from": "2010-01-01", "to": "2020-01-01"}, "to"),
        ({"format": "ods"}, "format"),
        ({"format": None}, "format"),
        ({"from": "2024-02-30"}, "from"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_validation_error_and_creates_no_job(client, ledger, conn, body, field):
    body = {"format": "csv", **body}

    response = request_export(client, ledger.user, **body)

    assert response.status_code == 400
    error = json.loads(response.body)["error"]
    assert error["code"] == "validation_error"
    assert field in {d["field"] for d in error["details"]}
    assert _jobs(conn) == 0 and job_keys() == []


def test_ten_years_exactly_is_allowed(client, ledger):
    response = request_export(client, ledger.user, format="csv", **{"from": "2014-01-01", "to": "2023-12-31"})

    assert response.status_code == 202


def test_an_account_or_family_the_caller_cannot_read_is_404_and_creates_no_job(client, ledger, conn, make_user):
    stranger = make_user()
    their_account = make_account(conn, stranger["id"])
    their_family = make_family(conn, stranger["id"])

    for extra in ({"account_id": str(their_account)}, {"family_id": str(their_family)},
                  {"account_id": "00000000-0000-0000-0000-000000000000"}):  # fmt: skip
        response = request_export(client, ledger.user, format="csv", **extra)
        assert response.status_code == 404, extra
        assert json.loads(response.body)["error"]["code"] == "not_found"
    assert _jobs(conn) == 0 and job_keys() == []


def test_an_account_outside_the_named_family_is_rejected(client, ledger, conn):
    family = make_family(conn, ledger.user["id"])

    response = request_export(client, ledger.user, format="csv", family_id=str(family), account_id=str(ledger.checking))

    assert response.status_code == 400
    assert _jobs(conn) == 0


def test_another_users_export_is_404(client, ledger, make_user):
    export = run_export(client, ledger.user, format="csv")
    stranger = make_user()

    response = client.http.get(f"/exports/{export['id']}", headers=stranger["headers"])
    listing = json.loads(client.http.get("/exports", headers=stranger["headers"]).body)

    assert response.status_code == 404
    assert json.loads(response.body)["error"]["code"] == "not_found"
    assert listing == {"items": [], "next_cursor": None}
    assert client.http.get("/exports/not-a-uuid", headers=stranger["headers"]).status_code == 404


def test_completed_export_has_a_presigned_download_url(client, ledger):
    export = run_export(client, ledger.user, format="csv")

    assert export["status"] == "completed"
    assert export["expires_in"] == 900 and "X-Amz-Signature" in export["download_url"]
    assert (
        f"exports/{ledger.user['id']}/{export['id']}/transactions_2024-01-01_2024-03-31.csv" in export["download_url"]
    )
    assert export["completed_at"] >= export["created_at"] and export["error_message"] is None
    assert (export["from"], export["to"], export["include_archived"]) == ("2024-01-01", "2024-03-31", False)


def test_list_is_newest_first_and_paginated(client, ledger):
    ids = [json.loads(request_export(client, ledger.user, format=f).body)["id"] for f in ("csv", "xlsx", "pdf")]

    first = json.loads(client.http.get("/exports?limit=2", headers=ledger.user["headers"]).body)
    second = json.loads(
        client.http.get(f"/exports?limit=2&cursor={first['next_cursor']}", headers=ledger.user["headers"]).body
    )

    assert [i["id"] for i in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None
    bad = client.http.get("/exports?cursor=%21%21", headers=ledger.user["headers"])
    assert bad.status_code == 400


def test_the_same_idempotency_key_creates_one_export(client, ledger, conn):
    headers = {**ledger.user["headers"], "Idempotency-Key": "export-once"}
    body = json.dumps({"format": "xlsx", "from": "2024-01-01", "to": "2024-01-31"})

    first = client.http.post("/exports", body=body, headers=headers)
    second = client.http.post("/exports", body=body, headers=headers)

    assert first.status_code == second.status_code == 202
    assert json.loads(first.body)["id"] == json.loads(second.body)["id"]
    assert _jobs(conn) == 1 and len(job_keys()) == 1


def test_storage_down_at_request_time_is_503_and_creates_no_job(client, ledger, conn, monkeypatch):
    def refuse(*args, **kwargs):
        # What the adapter raises for a server it cannot reach (infra/storage.py translates
        # the SDK's and urllib3's errors).
        raise storage.StorageError("storage failed: storage unreachable")

    monkeypatch.setattr(storage, "put_bytes", refuse)

    response = request_export(client, ledger.user, format="csv")

    assert response.status_code == 503
    assert _jobs(conn) == 0


def test_export_of_a_family_the_caller_left_fails_at_build_time(client, ledger, conn, make_user):
    owner = make_user()
    family = make_family(conn, owner["id"], members={ledger.user["id"]: "member"})
    response = request_export(client, ledger.user, format="csv", family_id=str(family))
    export_id = json.loads(response.body)["id"]
    conn.execute("DELETE FROM family_members WHERE user_id = %s", (ledger.user["id"],))

    deliver(client, f"exports/{ledger.user['id']}/{export_id}/job.json")
    export = get_export(client, ledger.user, export_id)

    assert export["status"] == "failed" and "no longer accessible" in export["error_message"]
    assert export["download_url"] is None
    assert [k for k in storage.list_keys(f"exports/{ledger.user['id']}/") if not k.endswith("job.json")] == []
