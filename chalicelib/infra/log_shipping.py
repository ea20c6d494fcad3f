"""Structured log lines to the logs index, off the request path.

The handler only puts a line on a bounded in-memory queue (never blocks: a full queue
drops the line and counts it); a daemon thread sends batches with the bulk API. A
slow or dead cluster therefore costs a request nothing and cannot fail it. In Lambda
the thread is frozen between invocations; lines wait for the next one (best effort,
the CloudWatch copy stays the complete record)."""

import logging
import queue
import threading
import time
from datetime import UTC, datetime
from typing import Any

from chalicelib.infra.settings import get_settings

BATCH = 200
FLUSH_SECONDS = 2.0
QUEUE_SIZE = 10_000
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def log_document(record: logging.LogRecord) -> dict[str, Any]:
    from chalicelib.infra.masking import mask

    extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}
    doc: dict[str, Any] = {
        "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
        "level": record.levelname,
        "service": "fiscaflow",
        "message": record.getMessage(),
        "user_id": str(extras.pop("user_id")) if extras.get("user_id") else None,
        "trace_id": extras.pop("request_id", None),
        "attributes": {k: v if isinstance(v, (str, int, float, bool)) else str(v) for k, v in extras.items()},
    }
    if record.exc_info and record.exc_info[0] is not None:
        doc["error"] = {
            "type": record.exc_info[0].__name__,
            "message": str(record.exc_info[1]),
            "stack_trace": logging.Formatter().formatException(record.exc_info),
        }
    return mask(doc)


class LogShipper(logging.Handler):
    def __init__(self, send, *, batch: int = BATCH, flush_seconds: float = FLUSH_SECONDS, maxsize: int = QUEUE_SIZE):
        super().__init__()
        self._send = send  # callable(list[dict]) -> None; may raise
        self._queue: queue.Queue = queue.Queue(maxsize=maxsize)
        self._batch = batch
        self._flush_seconds = flush_seconds
        self.dropped = 0
        self.failed_batches = 0
        # Started by the first line, never by constructing or installing the handler.
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        # Only the enqueue happens on the caller's thread: building and masking the
        # document (milliseconds) is the shipper thread's work.
        if self._thread is None:
            self._start()
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="log-shipper", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            lines = [self._queue.get()]
            deadline = time.monotonic() + self._flush_seconds
            while len(lines) < self._batch and (left := deadline - time.monotonic()) > 0:
                try:
                    lines.append(self._queue.get(timeout=left))
                except queue.Empty:
                    break
            try:
                self._send([log_document(r) for r in lines])
            except Exception:
                self.failed_batches += 1  # logging about a logging failure would loop


def _send_to_logs_index(lines: list[dict[str, Any]]) -> None:
    from chalicelib.infra import es_client

    index = es_client.alias("logs")
    operations: list[dict[str, Any]] = []
    for line in lines:
        operations.extend(({"create": {"_index": index}}, line))
    es_client.client().bulk(operations=operations, require_alias=True)


_installed: LogShipper | None = None


def install_if_configured() -> LogShipper | None:
    """Attach the shipper to the service logger when ELASTICSEARCH_URL and ELASTICSEARCH_LOGS
    are set (called by infra.logging.configure, at a function's first request or event)."""
    global _installed
    settings = get_settings()
    if _installed is None and settings.elasticsearch_url and settings.elasticsearch_logs:
        _installed = LogShipper(_send_to_logs_index)
        logging.getLogger("fiscaflow").addHandler(_installed)
    return _installed
