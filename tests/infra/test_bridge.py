"""The local event bridge turns a dropped object into exactly one handler call."""

import io
import types
import uuid
from urllib.parse import unquote_plus

import pytest
from chalice import Chalice, Rate

from chalicelib.infra import storage
from chalicelib.local.bridge import LocalEventBridge, routes_of


@pytest.fixture
def recording_app(storage_clean):
    calls = []
    app = Chalice(app_name="bridge-test")

    @app.on_s3_event(bucket=storage_clean, prefix="imports/", events=["s3:ObjectCreated:*"])
    def on_import(event):
        raw = event.to_dict()["Records"][0]["s3"]["object"]
        calls.append((event.bucket, event.key, raw["key"], raw.get("eTag") is not None, raw.get("size")))

    @app.schedule(Rate(1, unit=Rate.MINUTES))
    def every_minute(event):
        calls.append(("schedule", event.to_dict()["detail-type"]))

    module = types.SimpleNamespace(app=app, on_import=on_import, every_minute=every_minute)
    return module, calls


def _bridge(module):
    return LocalEventBridge(*routes_of(module), queue_name=f"bridge-test-{uuid.uuid4().hex[:8]}")


def _drain(bridge, rounds=5):
    return sum(bridge.poll_once(wait_seconds=1) for _ in range(rounds))


def test_a_dropped_object_becomes_one_handler_call(recording_app):
    module, calls = recording_app
    bridge = _bridge(module)
    bridge.setup()
    key = "imports/u1/a1/i1/statement 2024.csv"

    storage.client().put_object(storage.bucket(), key, io.BytesIO(b"date,amount\n"), 12)
    storage.client().put_object(storage.bucket(), "exports/u1/other.csv", io.BytesIO(b"x"), 1)
    delivered = _drain(bridge)

    assert delivered == 1
    assert len(calls) == 1
    bucket, decoded, raw_key, has_etag, size = calls[0]
    # S3 sends the key URL-encoded; Chalice's S3Event decodes it.
    assert (bucket, decoded, has_etag, size) == (storage.bucket(), key, True, 12)
    assert raw_key != key and unquote_plus(raw_key) == key


def test_a_restarted_bridge_does_not_deliver_again(recording_app):
    module, calls = recording_app
    first = _bridge(module)
    first.setup()
    storage.put_bytes("imports/u1/a1/i2/s.csv", b"data")
    assert _drain(first) == 1

    restarted = LocalEventBridge(*routes_of(module), queue_name=first.queue_name)
    restarted.setup()
    assert _drain(restarted, rounds=2) == 0
    assert len(calls) == 1


def test_schedules_run_at_their_rate(recording_app):
    module, calls = recording_app
    bridge = _bridge(module)

    assert bridge.run_due_schedules(now=1000.0) == []
    assert bridge.run_due_schedules(now=1059.0) == []
    assert bridge.run_due_schedules(now=1060.0) == ["every_minute"]
    assert calls == [("schedule", "Scheduled Event")]


def test_the_app_declares_its_handlers_for_the_bridge():
    import app as app_module

    _, schedules = routes_of(app_module)
    assert "partitions" in {s.name for s in schedules}
