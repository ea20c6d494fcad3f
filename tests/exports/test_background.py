"""The background build: once per export however often the event comes, progress while
it runs, and failures that leave a failed job and no result object."""

import json
import threading
import time
import uuid
from datetime import date
from urllib.parse import unquote_plus

import boto3
import psycopg
import pytest
from minio import Minio

from chalicelib.exports import builder, report_repo
from chalicelib.infra import storage
from chalicelib.infra.settings import get_settings
from chalicelib.local.bridge import LocalEventBridge, S3Route, routes_of
from tests.exports.helpers import deliver, get_export, job_keys, request_export


def _request(client, user, **body) -> str:
    response = request_export(client, user, **body)
    assert response.status_code == 202
    return json.loads(response.body)["id"]


def _result_objects(user_id) -> list[str]:
    return [k for k in storage.list_keys(f"exports/{user_id}/") if not k.endswith("/job.json")]


def _s3():
    settings = get_settings()
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
        region_name=settings.s3_region,
    )


def test_a_second_delivery_of_the_event_builds_nothing(client, ledger, monkeypatch):
    export_id = _request(client, ledger.user, format="csv")
    key = f"exports/{ledger.user['id']}/{export_id}/job.json"
    uploads = []
    real_put = storage.put_stream
    monkeypatch.setattr(storage, "put_stream", lambda *a, **k: uploads.append(a[0]) or real_put(*a, **k))

    deliver(client, key)
    first = get_export(client, ledger.user, export_id)
    deliver(client, key)
    second = get_export(client, ledger.user, export_id)

    assert len(uploads) == 1
    assert first == {**second, "download_url": first["download_url"]}
    assert builder.handle_job_object(key=key) == "duplicate"


def test_racing_deliveries_build_once(client, ledger):
    export_id = _request(client, ledger.user, format="xlsx")
    key = f"exports/{ledger.user['id']}/{export_id}/job.json"
    outcomes = []
    barrier = threading.Barrier(3)

    def run():
        barrier.wait()
        outcomes.append(builder.handle_job_object(key=key))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert sorted(outcomes) == ["completed", "duplicate", "duplicate"]
    assert get_export(client, ledger.user, export_id)["status"] == "completed"


def test_rows_rise_while_the_export_runs(client, ledger, conn, monkeypatch):
    export_id = _request(client, ledger.user, format="csv")
    monkeypatch.setattr(builder, "PROGRESS_EVERY", 3)
    seen = []
    real = builder.repo.record_progress

    def spy(*, job_id, rows):
        real(job_id=job_id, rows=rows)
        # Read from another connection: the count is visible while the build still runs.
        row = conn.execute("SELECT status, row_count FROM export_jobs WHERE id = %s", (job_id,)).fetchone()
        seen.append((row["status"], row["row_count"]))

    monkeypatch.setattr(builder.repo, "record_progress", spy)

    deliver(client, f"exports/{ledger.user['id']}/{export_id}/job.json")

    assert seen == [("in_progress", 3), ("in_progress", 6), ("in_progress", 9)]
    assert get_export(client, ledger.user, export_id)["rows"] == 10


def test_storage_failing_mid_upload_ends_failed_with_no_object(client, ledger, conn, monkeypatch):
    # Long notes make the CSV span two 8 MiB multipart parts; the second part fails.
    conn.execute(
        """INSERT INTO transactions (user_id, account_id, amount, description, notes, transaction_date, status)
           SELECT %s, %s, -1.00, 'padding ' || n, repeat('lorem ipsum ', 700), '2024-01-10', 'posted'
             FROM generate_series(1, 1300) AS n""",
        (ledger.user["id"], ledger.checking),
    )
    export_id = _request(client, ledger.user, format="csv")
    parts = []
    real_upload = Minio._upload_part

    def flaky_upload(self, *args, **kwargs):
        parts.append(args[-1])
        if len(parts) == 2:
            raise ConnectionResetError("connection reset by peer")
        return real_upload(self, *args, **kwargs)

    monkeypatch.setattr(Minio, "_upload_part", flaky_upload)

    deliver(client, f"exports/{ledger.user['id']}/{export_id}/job.json")
    export = get_export(client, ledger.user, export_id)

    assert parts == [1, 2]
    assert export["status"] == "failed" and "storage" in export["error_message"]
    assert export["download_url"] is None and export["size_bytes"] is None
    assert _result_objects(ledger.user["id"]) == []
    assert _s3().list_multipart_uploads(Bucket=storage.bucket()).get("Uploads", []) == []
    # A new request succeeds once storage is back.
    monkeypatch.setattr(Minio, "_upload_part", real_upload)
    retry = _request(client, ledger.user, format="csv")
    deliver(client, f"exports/{ledger.user['id']}/{retry}/job.json")
    assert get_export(client, ledger.user, retry)["status"] == "completed"


def test_a_database_error_mid_export_ends_failed_with_no_object(client, ledger, monkeypatch):
    export_id = _request(client, ledger.user, format="xlsx")
    real_stream = report_repo.stream_transactions

    def failing_stream(conn, scope, **kwargs):
        rows = real_stream(conn, scope, **kwargs)
        yield next(rows)
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(report_repo, "stream_transactions", failing_stream)

    deliver(client, f"exports/{ledger.user['id']}/{export_id}/job.json")
    export = get_export(client, ledger.user, export_id)

    assert export["status"] == "failed" and "database" in export["error_message"]
    assert _result_objects(ledger.user["id"]) == []


def test_an_event_for_a_job_not_committed_yet_is_raised_for_redelivery(services):
    key = f"exports/{uuid.uuid4()}/{uuid.uuid4()}/job.json"

    with pytest.raises(builder.ExportJobNotVisible):
        builder.handle_job_object(key=key)


def test_a_job_committed_between_the_claim_and_the_check_is_built_not_dropped(client, ledger, monkeypatch):
    """Regression: the event outran the request's commit; the claim's snapshot missed the
    row, the next read saw it pending, and the job was logged "already taken" and stuck."""
    from chalicelib.exports import repo

    export_id = _request(client, ledger.user, format="csv")
    key = f"exports/{ledger.user['id']}/{export_id}/job.json"
    real_claim = repo.claim_job
    calls = []

    def claim_missing_the_first_time(conn, **kw):
        calls.append(1)
        return None if len(calls) == 1 else real_claim(conn, **kw)

    monkeypatch.setattr(repo, "claim_job", claim_missing_the_first_time)

    assert builder.handle_job_object(key=key) == "completed"
    assert get_export(client, ledger.user, export_id)["status"] == "completed"


@pytest.mark.parametrize(
    "key",
    [
        "exports/abc/def/job.json",
        "exports/x.csv",
        "exports/5f0c1e2a-0000-4000-8000-000000000001/5f0c1e2a-0000-4000-8000-000000000002/job.json.bak",
    ],
)
def test_keys_that_are_not_job_objects_are_ignored(key):
    assert builder.handle_job_object(key=key) == "ignored"


def test_end_to_end_through_the_local_event_bridge(client, ledger, conn):
    import app as app_module

    s3_routes, _ = routes_of(app_module)
    route = next(r for r in s3_routes if r.name == "export_requested")
    calls = []

    def counting(event, context):
        calls.append(unquote_plus(event["Records"][0]["s3"]["object"]["key"]))
        return route.handler(event, context)

    bridge = LocalEventBridge(
        [S3Route(route.name, route.prefix, route.suffix, counting)], [], queue_name=f"exports-{uuid.uuid4().hex[:8]}"
    )
    bridge.setup()
    try:
        export_id = _request(client, ledger.user, format="csv", to="2024-01-31")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and get_export(client, ledger.user, export_id)["status"] != "completed":
            bridge.poll_once(wait_seconds=1)
        # The built CSV lands under the same prefix: it must not start another build.
        for _ in range(3):
            bridge.poll_once(wait_seconds=1)
    finally:
        _s3().put_bucket_notification_configuration(Bucket=storage.bucket(), NotificationConfiguration={})

    export = get_export(client, ledger.user, export_id)
    assert export["status"] == "completed" and export["rows"] == 4
    assert len(calls) == 1 and calls[0].endswith("/job.json")
    assert route.matches(f"exports/{ledger.user['id']}/{export_id}/job.json")
    assert not route.matches(f"exports/{ledger.user['id']}/{export_id}/transactions_2024-01-01_2024-01-31.csv")
    assert len(job_keys()) == 1


def test_every_format_is_built_for_the_requested_period_only(client, ledger):
    ids = {f: _request(client, ledger.user, format=f, to="2024-01-31") for f in ("csv", "xlsx", "pdf")}
    for export_id in ids.values():
        deliver(client, f"exports/{ledger.user['id']}/{export_id}/job.json")

    exports = {f: get_export(client, ledger.user, i) for f, i in ids.items()}

    assert {f: e["status"] for f, e in exports.items()} == dict.fromkeys(ids, "completed")
    assert exports["csv"]["rows"] == exports["xlsx"]["rows"] == 4  # January, cancelled rows included
    assert exports["pdf"]["rows"] == 4
    assert date.fromisoformat(exports["csv"]["to"]) == date(2024, 1, 31)
