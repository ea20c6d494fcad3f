"""The local event bridge: what AWS does for the deployed app, done on a laptop.

* Objects created in the bucket under a prefix that an `@app.on_s3_event` handler
  watches reach that handler as the S3 event AWS would send. On moto's server the
  bucket publishes its notifications to an SQS queue on the same server, the bridge
  receives them, calls the handler, and deletes the message only once handled (a
  restart resumes where it stopped; nothing delivered is delivered again). MinIO has
  no SQS: the bridge holds MinIO's own ListenBucketNotification stream open (minio
  SDK) and hands each record to the same delivery. That stream is live only: objects
  created while no bridge listens are not delivered later (re-drop them, or run the
  import's retry), and a failing handler is retried in memory only.
* Every `@app.schedule` handler runs at its rate.

Handlers must still tolerate a second delivery, as in AWS (multipart uploads can
produce two ObjectCreated records for one object)."""

import json
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from chalice.app import Cron, Rate, S3EventConfig, ScheduledEventConfig

from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings

QUEUE_NAME = "fiscaflow-local-events"
# A message whose handler keeps failing is dropped after this many deliveries (AWS's
# asynchronous invocation gives up after three attempts too); the handler records
# poison input as a failed import, so this is a last resort.
MAX_RECEIVES = 3
_RATE_SECONDS = {Rate.MINUTES: 60, Rate.HOURS: 3600, Rate.DAYS: 86400}


@dataclass
class S3Route:
    name: str
    prefix: str
    suffix: str
    handler: Callable[[dict, Any], Any]

    def matches(self, key: str) -> bool:
        return key.startswith(self.prefix) and key.endswith(self.suffix)


@dataclass
class ScheduleRoute:
    name: str
    every_seconds: int
    handler: Callable[[dict, Any], Any]
    next_run: float = field(default=0.0)


def _rate_seconds(expression: Any) -> int:
    if isinstance(expression, Rate):
        return expression.value * _RATE_SECONDS[expression.unit]
    if isinstance(expression, Cron):
        raise ValueError("the local bridge runs Rate schedules only; express local schedules as Rate")
    raise ValueError(f"unsupported schedule expression {expression!r}")


def routes_of(app_module: ModuleType) -> tuple[list[S3Route], list[ScheduleRoute]]:
    app = app_module.app
    s3_routes, schedules = [], []
    for source in app.event_sources:
        handler = getattr(app_module, source.handler_string.split(".")[-1])
        if isinstance(source, S3EventConfig):
            s3_routes.append(S3Route(source.name, source.prefix or "", source.suffix or "", handler))
        elif isinstance(source, ScheduledEventConfig):
            schedules.append(ScheduleRoute(source.name, _rate_seconds(source.schedule_expression), handler))
    return s3_routes, schedules


def _aws_client(service: str):
    import boto3

    settings = get_settings()
    return boto3.client(
        service,
        endpoint_url=settings.s3_endpoint_url,
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
        region_name=settings.s3_region,
    )


def _scheduled_event(name: str) -> dict:
    """The EventBridge "Scheduled Event" that AWS passes to a scheduled Lambda."""
    import uuid
    from datetime import UTC, datetime

    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": get_settings().s3_region,
        "resources": [f"arn:aws:events:local:000000000000:rule/{name}"],
        "detail": {},
    }


# Objects the MinIO listener writes to itself to know its stream is open; no route matches.
PROBE_PREFIX = ".fiscaflow-bridge/"


class MinioListener:
    """MinIO's ListenBucketNotification stream on a daemon thread, records onto a queue.
    `start` returns once the stream provably delivers (a probe object came back)."""

    def __init__(self):
        from chalicelib.infra import storage

        self._storage = storage
        self.records: queue.Queue = queue.Queue()
        self._stream = None
        self._stop = threading.Event()
        self._probes: dict[str, threading.Event] = {}

    def start(self, timeout: float = 15.0) -> None:
        threading.Thread(target=self._run, name="minio-listener", daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            key = f"{PROBE_PREFIX}{uuid.uuid4().hex}"
            seen = self._probes[key] = threading.Event()
            self._storage.put_bytes(key, b"")
            arrived = seen.wait(1.0)
            self._storage.delete(key)
            if arrived:
                return
        raise TimeoutError("MinIO's bucket notification stream did not open")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._stream = self._storage.client().listen_bucket_notification(
                    self._storage.bucket(), events=("s3:ObjectCreated:*",)
                )
                for event in self._stream:
                    for record in event.get("Records", []):
                        key = record["s3"]["object"]["key"]  # unescaped on this stream
                        if key.startswith(PROBE_PREFIX):
                            if key in self._probes:
                                self._probes.pop(key).set()
                            continue
                        self.records.put((record, 1))
            except Exception as exc:
                if self._stop.is_set():
                    return
                logger.warning("minio listener reconnecting", extra={"error": f"{type(exc).__name__}: {exc}"})
                self._stop.wait(1.0)

    def close(self) -> None:
        self._stop.set()
        if self._stream is not None:
            self._stream._close_response()


def as_s3_record(record: dict) -> dict:
    """A MinIO listen record as S3 shapes it for Lambda: MinIO names events
    "s3:ObjectCreated:Put" where S3 says "ObjectCreated:Put", and its listen stream (unlike
    its notification targets) leaves the key unescaped where S3 URL-encodes it."""
    name = str(record.get("eventName", ""))
    s3 = record.get("s3", {})
    obj = {**s3.get("object", {}), "key": quote_plus(s3.get("object", {}).get("key", ""), safe="/")}
    return {**record, "eventName": name.removeprefix("s3:"), "s3": {**s3, "object": obj}}


class LocalEventBridge:
    def __init__(self, s3_routes: list[S3Route], schedules: list[ScheduleRoute], *, queue_name: str = QUEUE_NAME):
        from chalicelib.infra import storage

        self.s3_routes = s3_routes
        self.schedules = schedules
        self.queue_name = queue_name
        self.minio = storage.server_is_minio()
        self._sqs = None if self.minio else _aws_client("sqs")
        self._queue_url: str | None = None
        self._listener: MinioListener | None = None

    def setup(self) -> None:
        """moto: create the queue and point the bucket's ObjectCreated notifications at it.
        MinIO: open its notification stream."""
        if self.minio:
            if self._listener is None:
                self._listener = MinioListener()
                self._listener.start()
                logger.info(
                    "bridge ready (MinIO notifications)", extra={"prefixes": [r.prefix for r in self.s3_routes]}
                )
            return
        s3 = _aws_client("s3")
        bucket = get_settings().s3_bucket
        self._queue_url = self._sqs.create_queue(QueueName=self.queue_name)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        configs = []
        for route in self.s3_routes:
            rules = [{"Name": "prefix", "Value": route.prefix}]
            if route.suffix:
                rules.append({"Name": "suffix", "Value": route.suffix})
            configs.append(
                {
                    "Id": f"fiscaflow-{route.name}",
                    "QueueArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": rules}},
                }
            )
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"QueueConfigurations": configs}
        )
        logger.info("bridge ready", extra={"queue": self.queue_name, "prefixes": [r.prefix for r in self.s3_routes]})

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _poll_minio(self, wait_seconds: int) -> int:
        calls = 0
        deadline = time.monotonic() + wait_seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                record, receives = self._listener.records.get(timeout=left)
            except queue.Empty:
                break
            try:
                calls += self._deliver({"Records": [as_s3_record(record)]})
            except Exception:
                logger.exception("event handler failed", extra={"receives": receives})
                if receives < MAX_RECEIVES:
                    self._listener.records.put((record, receives + 1))
            deadline = min(deadline, time.monotonic() + 0.2)  # a burst: take what follows at once
        return calls

    def poll_once(self, wait_seconds: int = 1) -> int:
        """Deliver what the queue holds now; returns the number of handler calls."""
        if self._queue_url is None and self._listener is None:
            self.setup()
        if self.minio:
            return self._poll_minio(wait_seconds)
        response = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["ApproximateReceiveCount"],
        )
        calls = 0
        for message in response.get("Messages", []):
            receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            try:
                calls += self._deliver(json.loads(message["Body"]))
            except Exception:
                logger.exception("event handler failed", extra={"receives": receives})
                if receives < MAX_RECEIVES:
                    continue  # left on the queue: delivered again after the visibility timeout
            self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        return calls

    def _deliver(self, body: dict) -> int:
        if body.get("Event") == "s3:TestEvent":
            return 0
        calls = 0
        for record in body.get("Records", []):
            if not str(record.get("eventName", "")).startswith("ObjectCreated"):
                continue
            key = unquote_plus(record["s3"]["object"]["key"])
            for route in self.s3_routes:
                if route.matches(key):
                    # One record per event, as S3 sends it to Lambda.
                    route.handler({"Records": [record]}, None)
                    calls += 1
        return calls

    def run_due_schedules(self, now: float | None = None) -> list[str]:
        now = time.monotonic() if now is None else now
        ran = []
        for schedule in self.schedules:
            if schedule.next_run == 0.0:
                schedule.next_run = now + schedule.every_seconds
            if now >= schedule.next_run:
                schedule.next_run = now + schedule.every_seconds
                try:
                    schedule.handler(_scheduled_event(schedule.name), None)
                except Exception:
                    logger.exception("scheduled handler failed", extra={"schedule": schedule.name})
                ran.append(schedule.name)
        return ran

    def run_forever(self, stop: threading.Event) -> None:
        self.setup()
        while not stop.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception as exc:
                # Typically the S3 server stopping first on Ctrl-C, or not up yet.
                logger.warning("bridge poll failed; retrying", extra={"error": f"{type(exc).__name__}: {exc}"})
                stop.wait(2)
            self.run_due_schedules()
