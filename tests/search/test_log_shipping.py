"""Log lines to the logs index: batched off the request path, never blocking."""

import logging
import threading
import time

from chalicelib.infra.log_shipping import LogShipper, log_document


def _record(msg="user logged in", **extra):
    record = logging.LogRecord("fiscaflow", logging.INFO, __file__, 1, msg, None, None)
    record.__dict__.update(extra)
    return record


def test_lines_are_sent_in_batches():
    batches = []
    shipper = LogShipper(batches.append, batch=3, flush_seconds=0.05)
    for i in range(7):
        shipper.emit(_record(f"line {i}"))
    deadline = time.monotonic() + 15  # a loaded CI machine; the loop ends as soon as all are in
    while sum(map(len, batches)) < 7 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [line["message"] for batch in batches for line in batch] == [f"line {i}" for i in range(7)]
    assert max(map(len, batches)) <= 3


def test_a_stuck_or_failing_cluster_never_slows_the_caller():
    release = threading.Event()

    def stuck(lines):
        release.wait(5)
        raise ConnectionError("cluster down")

    shipper = LogShipper(stuck, batch=10, flush_seconds=0.01, maxsize=50)
    started = time.monotonic()
    for i in range(1000):
        shipper.emit(_record(f"line {i}"))
    elapsed = time.monotonic() - started
    release.set()

    assert elapsed < 0.5
    assert shipper.dropped >= 1000 - 50 - 10


def test_a_log_document_has_the_seed_fields_and_is_masked():
    doc = log_document(_record("login", user_id="u1", request_id="r1", email="jane@example.com", attempts=2))
    assert doc["level"] == "INFO" and doc["service"] == "fiscaflow" and doc["message"] == "login"
    assert doc["user_id"] == "u1" and doc["trace_id"] == "r1"
    assert doc["attributes"]["attempts"] == 2
    assert doc["attributes"]["email"] != "jane@example.com"
