"""Event handlers at the edge (issue 15): every S3, schedule and WebSocket handler takes
its event as a Powertools data class and carries `@logger.inject_lambda_context`; no
import starts a thread (the log shipper starts from infra.logging.configure)."""

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, S3Event
from chalice.app import CloudWatchEvent
from chalice.app import S3Event as ChaliceS3Event
from chalice.test import Client

import app as app_module
from chalicelib.infra.lambda_events import LocalContext, typed_event
from chalicelib.infra.logging import logger

ROOT = Path(__file__).resolve().parents[2]
SCHEDULED = {
    "version": "0",
    "id": "e1",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "000000000000",
    "time": "2026-12-01T00:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:000000000000:rule/import-sweep"],
    "detail": {},
}
CONTEXT_KEYS = ["cold_start", "function_name", "function_memory_size", "function_arn", "function_request_id"]
WEBSOCKET_HANDLERS = ("ws_connect", "ws_message", "ws_disconnect")


def _handler_names() -> list[str]:
    return [s.handler_string.split(".")[-1] for s in app_module.app.event_sources] + list(WEBSOCKET_HANDLERS)


def test_every_event_handler_is_typed_and_injects_the_lambda_context():
    names = _handler_names()
    assert len(names) == 16  # 10 schedules, 3 S3 handlers, 3 WebSocket routes
    for name in names:
        chalice_handler = getattr(app_module, name).func
        assert chalice_handler.__code__.co_qualname.startswith("typed_event."), name
        injected = chalice_handler.__wrapped__.__code__.co_qualname
        assert injected == "Logger.inject_lambda_context.<locals>.decorate", name


def test_the_handler_receives_a_data_class_and_a_context():
    seen = []

    @typed_event("S3Event")
    def handler(event, context):
        seen.append((event, context))
        return "done"

    raw = Client(app_module.app).events.generate_s3_event(bucket="b", key="imports/a%20b.csv")
    assert handler(ChaliceS3Event(raw, None)) == "done"
    event, context = seen[0]
    assert isinstance(event, S3Event) and event.object_key == "imports/a b.csv" and event.raw_event is raw
    assert isinstance(context, LocalContext) and context.function_name == "fiscaflow-local-handler"

    # The local WebSocket gateway's context names the function and request only.
    partial = SimpleNamespace(function_name="fiscaflow-local-connect", aws_request_id="r1")
    handler(ChaliceS3Event(raw, partial))
    assert seen[1][1] == LocalContext(function_name="fiscaflow-local-connect", aws_request_id="r1")


def test_a_schedule_logs_with_its_lambda_context(client):
    try:
        client.lambda_.invoke("import-sweep", SCHEDULED)
        keys = logger.get_current_keys()
        assert keys["function_name"] == "import-sweep"
        assert "cold_start" in keys and keys["function_request_id"]
    finally:
        logger.remove_keys(CONTEXT_KEYS)


def test_a_schedule_event_is_an_eventbridge_event():
    seen = []
    typed_event("EventBridgeEvent")(lambda event, context: seen.append(event))(CloudWatchEvent(SCHEDULED, None))
    assert isinstance(seen[0], EventBridgeEvent) and seen[0].detail_type == "Scheduled Event"


def test_no_import_starts_a_thread_and_the_log_shipper_starts_from_logging_configuration():
    code = """
import json, logging, threading
import app
from chalicelib.api.route_table import declared_specs
declared_specs()  # every routes module, search's included
before = [t.name for t in threading.enumerate()]
from chalicelib.infra import logging as infra_logging
infra_logging.configure()
installed = [type(h).__name__ for h in logging.getLogger("fiscaflow").handlers]
infra_logging.logger.info("first line")
print(json.dumps([before, installed, [t.name for t in threading.enumerate()]]))
"""
    env = {
        "PATH": "/usr/bin:/bin",
        "ELASTICSEARCH_URL": "http://127.0.0.1:9",  # nothing listens: the batch fails quietly
        "ELASTICSEARCH_LOGS": "true",
        "STAGE": "test",
    }
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    before, installed, after = json.loads(out.stdout.splitlines()[-1])
    assert before == ["MainThread"]
    assert "LogShipper" in installed
    assert "log-shipper" in after
