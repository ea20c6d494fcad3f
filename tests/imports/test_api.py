"""POST /imports, GET /imports, GET /imports/{id} as a client sees them, and the whole way
through the local event bridge with a presigned PUT made by a plain HTTP client."""

import json
import urllib.request
import uuid

import pytest

from tests.factories import make_account, make_family
from tests.imports.conftest import fixture_bytes

IMPORT_KEYS = {
    "id", "account_id", "status", "sync_type", "file_key", "transactions_added", "transactions_updated",
    "transactions_deleted", "duplicates_skipped", "started_at", "completed_at", "error_message", "errors",
    "error_code", "layout", "skipped", "warnings", "candidates", "preview_rows",
}  # fmt: skip


def _post(client, user, body):
    response = client.http.post("/imports", body=json.dumps(body), headers=user["headers"])
    return response.status_code, json.loads(response.body or b"null")


def _get(client, user, path):
    response = client.http.get(path, headers=user["headers"])
    return response.status_code, json.loads(response.body or b"null")


def test_requesting_an_import_returns_a_presigned_put_and_a_pending_import(client, owner, checking):
    status, body = _post(client, owner, {"account_id": str(checking), "filename": "jan 2024.csv"})

    assert status == 201
    assert set(body) == {"import_id", "upload_url", "key", "expires_in"}
    assert body["key"] == f"imports/{owner['id']}/{checking}/{body['import_id']}/jan 2024.csv"
    assert body["expires_in"] > 0 and body["upload_url"].startswith("http")
    status, record = _get(client, owner, f"/imports/{body['import_id']}")
    assert status == 200 and set(record) == IMPORT_KEYS
    assert (record["status"], record["sync_type"], record["file_key"]) == ("pending", "csv_import", body["key"])
    assert record["account_id"] == str(checking) and record["errors"] == []


def test_the_pending_import_is_completed_by_its_file(client, conn, owner, checking, drop, deliver):
    _, body = _post(client, owner, {"account_id": str(checking), "filename": "chase.csv", "format": "csv"})

    deliver(drop(body["key"], fixture_bytes("us_chase_checking.csv")))

    _, record = _get(client, owner, f"/imports/{body['import_id']}")
    assert (record["status"], record["transactions_added"], record["duplicates_skipped"]) == ("completed", 4, 0)
    assert record["completed_at"] >= record["started_at"]
    assert conn.execute("SELECT count(*) AS n FROM data_sync_logs").fetchone()["n"] == 1


def test_someone_elses_account_is_not_found_and_a_viewers_is_forbidden(client, conn, make_user, owner, checking):
    viewer = make_user()
    family = make_family(conn, owner["id"], members={viewer["id"]: "viewer"})
    shared = make_account(conn, owner["id"], family_id=family)

    assert _post(client, viewer, {"account_id": str(checking), "filename": "a.csv"})[0] == 404
    assert _post(client, viewer, {"account_id": str(uuid.uuid4()), "filename": "a.csv"})[0] == 404
    status, body = _post(client, viewer, {"account_id": str(shared), "filename": "a.csv"})
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert conn.execute("SELECT count(*) AS n FROM data_sync_logs").fetchone()["n"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"filename": "a.csv"},
        {"filename": "../a.csv"},
        {"filename": "dir/a.csv"},
        {"filename": "a.csv", "format": "xlsx"},
        {"filename": "a.csv", "surprise": 1},
        {"filename": "a.csv", "mapping": {"description": "Text"}},
    ],
    ids=["no-account", "dotdot", "slash", "format", "extra-field", "mapping-without-money"],
)
def test_invalid_requests_are_400(client, owner, checking, body):
    if "filename" in body and body != {"filename": "a.csv"}:
        body = {"account_id": str(checking), **body}

    status, answer = _post(client, owner, body)

    assert (status, answer["error"]["code"]) == (400, "validation_error")


def test_a_mapping_is_saved_for_the_account(client, conn, owner, checking):
    mapping = {"date": "Wann", "description": 3, "amount": "Wieviel", "decimal_separator": ","}

    status, _ = _post(client, owner, {"account_id": str(checking), "filename": "a.csv", "mapping": mapping})

    assert status == 201
    saved = conn.execute("SELECT mapping FROM import_mappings WHERE account_id = %s", (checking,)).fetchone()
    assert saved["mapping"] == mapping


def test_imports_are_private_and_paginated_newest_first(client, make_user, owner, checking):
    ids = [
        _post(client, owner, {"account_id": str(checking), "filename": f"{n}.csv"})[1]["import_id"] for n in range(3)
    ]
    stranger = make_user()

    status, first = _get(client, owner, "/imports?limit=2")
    _, second = _get(client, owner, f"/imports?limit=2&cursor={first['next_cursor']}")

    assert status == 200
    assert [i["id"] for i in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None
    assert _get(client, stranger, "/imports")[1]["items"] == []
    assert _get(client, stranger, f"/imports/{ids[0]}")[0] == 404
    assert _get(client, owner, "/imports/not-a-uuid")[0] == 404
    assert _get(client, owner, "/imports?cursor=garbage")[0] == 400
    assert _get(client, owner, "/imports?status=completed")[1]["items"] == []


def test_a_refused_drop_is_listed_as_failed_for_its_user(client, make_user, checking, drop, deliver):
    stranger = make_user()
    deliver(drop(f"imports/{stranger['id']}/{checking}/x/steal.csv", fixture_bytes("us_chase_checking.csv")))

    _, page = _get(client, stranger, "/imports")

    assert [(i["status"], i["account_id"]) for i in page["items"]] == [("failed", str(checking))]


def test_end_to_end_through_the_local_bridge_with_a_presigned_put(client, owner, checking):
    import app as app_module
    from chalicelib.local.bridge import LocalEventBridge, routes_of

    s3_routes, _ = routes_of(app_module)
    bridge = LocalEventBridge(s3_routes, [], queue_name=f"imports-test-{uuid.uuid4().hex[:8]}")
    bridge.setup()
    _, upload = _post(client, owner, {"account_id": str(checking), "filename": "Jan 2024 + fees.csv"})

    request = urllib.request.Request(
        upload["upload_url"], data=fixture_bytes("us_chase_checking.csv"), method="PUT",
        headers={"Content-Type": "text/csv"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    delivered = sum(bridge.poll_once(wait_seconds=1) for _ in range(5))

    assert delivered >= 1
    _, record = _get(client, owner, f"/imports/{upload['import_id']}")
    assert (record["status"], record["transactions_added"]) == ("completed", 4)
    assert record["file_key"] == f"imports/{owner['id']}/{checking}/{upload['import_id']}/Jan 2024 + fees.csv"
    _, account_page = _get(client, owner, f"/imports?account_id={checking}")
    assert [i["id"] for i in account_page["items"]] == [upload["import_id"]]


def test_the_handler_watches_only_created_objects_under_imports():
    # chalice.test.Client does not apply an S3 handler's prefix filter: check the declaration.
    from chalice.app import S3EventConfig

    import app as app_module

    (source,) = [s for s in app_module.app.event_sources if s.name == "statement_uploaded"]
    assert isinstance(source, S3EventConfig)
    assert (source.prefix, source.suffix, source.events) == ("imports/", None, ["s3:ObjectCreated:*"])
