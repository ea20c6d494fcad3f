"""FiscaFlow: the map of entry points. Routes live in blueprints; event and schedule
handlers are declared here and hand straight over to chalicelib.

Every function imports this file, so it imports little: the routes come from a checked-in
table and load on their first call, and each handler imports its service inside."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Chalice, Rate

from chalicelib.api import chalice_errors, lazy_routes
from chalicelib.infra.lambda_events import typed_event
from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings
from chalicelib.jobs import run_job
from chalicelib.live import binding as live_binding
from chalicelib.live.management_api import ManagementWebsocketAPI

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent, EventBridgeEvent, S3Event
    from aws_lambda_powertools.utilities.typing import LambdaContext

app = Chalice(app_name="fiscaflow")
app.api.binary_types = []  # JSON only; files move through presigned URLs
chalice_errors.install(app)  # 404/405/415 written by Chalice itself, in the contract's shape

# Live updates (API.md "Live updates"): API Gateway's WebSocket API, the three handlers
# below; every function pushes through this websocket_api once its write commits.
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.websocket_api = ManagementWebsocketAPI(endpoint=get_settings().live_management_endpoint)
live_binding.bind(app.websocket_api)


def _dashboard_figures(*, user_ids):
    # Wired here, not imported by live: the dashboard reads budgets and notifications,
    # which push through live. Imported on first push, so it costs no cold start.
    from chalicelib.dashboard.service import live_figures_of

    return live_figures_of(user_ids=user_ids)


live_binding.figures_from(_dashboard_figures)

# Every route of every blueprint, from the checked-in route table: a routes module (its
# models and services) is imported on the first call of one of its routes, so that no
# function pays at cold start for the API it does not serve (chalicelib/api/lazy_routes.py).
lazy_routes.register(app)


@app.on_ws_connect()
@typed_event("APIGatewayWebSocketEvent")
@logger.inject_lambda_context
def ws_connect(event: APIGatewayWebSocketEvent, context: LambdaContext):
    from chalicelib.live import connections

    connection_id = event.request_context.connection_id
    return connections.open_connection(connection_id=connection_id, query=event.get("queryStringParameters"))


@app.on_ws_message()
@typed_event("APIGatewayWebSocketEvent")
@logger.inject_lambda_context
def ws_message(event: APIGatewayWebSocketEvent, context: LambdaContext):
    from chalicelib.live import connections

    return connections.handle_message(connection_id=event.request_context.connection_id, body=event.body)


@app.on_ws_disconnect()
@typed_event("APIGatewayWebSocketEvent")
@logger.inject_lambda_context
def ws_disconnect(event: APIGatewayWebSocketEvent, context: LambdaContext):
    from chalicelib.live import connections

    return connections.close_connection(connection_id=event.request_context.connection_id)


# The push function: a write hands its pushes here in one asynchronous invoke after its
# commit (LIVE_PUSH_FUNCTION), so delivery runs outside the writer's process.
@app.lambda_function(name="live_push")
@logger.inject_lambda_context
def live_push(event: dict, context: LambdaContext):
    from chalicelib.infra.logging import configure
    from chalicelib.live import publisher

    configure()
    return publisher.deliver_handed_off(event)


# Scheduled jobs (chalicelib/jobs.py imports each job's module when it runs).
@app.schedule(Rate(1, unit=Rate.DAYS), name="partitions")
@typed_event("EventBridgeEvent")
@logger.inject_lambda_context
def partitions(event: EventBridgeEvent, context: LambdaContext):
    return run_job("partitions")


@app.schedule(Rate(1, unit=Rate.DAYS), name="retention")
@typed_event("EventBridgeEvent")
@logger.inject_lambda_context
def retention(event: EventBridgeEvent, context: LambdaContext):
    return run_job("retention")


@app.schedule(Rate(1, unit=Rate.DAYS), name="backup")
@typed_event("EventBridgeEvent")
@logger.inject_lambda_context
def backup(event: EventBridgeEvent, context: LambdaContext):
    return run_job("backup")


@app.schedule(Rate(1, unit=Rate.DAYS), name="files-backup")
@typed_event("EventBridgeEvent")
@logger.inject_lambda_context
def files_backup(event: EventBridgeEvent, context: LambdaContext):
    return run_job("files-backup")


@app.schedule(Rate(1, unit=Rate.HOURS), name="budget-alerts")
@typed_event("EventBridgeEvent")
@logger.inject_lambda_context
def budget_alerts(event: EventBridgeEvent, context: LambdaContext):
    return run_job("budget-alerts")


@app.schedule(Rate(1, unit=Rate.DAYS), name="unusual-spending")
@typed_event("EventBridgeEvent")
@logger.inject_lambda_context
def unusual_spending(event: EventBridgeEvent, context: LambdaContext):
    return run_job("unusual-spending")


@app.schedule(Rate(1, unit=Rate.DAYS), name="bill-reminders")
@typed_event("EventBridgeEvent")
@logger.inject_lambda_context
def bill_reminders(event: EventBridgeEvent, context: LambdaContext):
    return run_job("bill-reminders")


@app.schedule(Rate(1, unit=Rate.MINUTES), name="search-sync")
@typed_event("EventBridgeEvent")
@logger.inject_lambda_context
def search_sync(event: EventBridgeEvent, context: LambdaContext):
    return run_job("search-sync")


@app.schedule(Rate(5, unit=Rate.MINUTES), name="import-sweep")
@typed_event("EventBridgeEvent")
@logger.inject_lambda_context
def import_sweep(event: EventBridgeEvent, context: LambdaContext):
    return run_job("import-sweep")


@app.schedule(Rate(6, unit=Rate.HOURS), name="bank-sync")
@typed_event("EventBridgeEvent")
@logger.inject_lambda_context
def bank_sync(event: EventBridgeEvent, context: LambdaContext):
    return run_job("bank-sync")


# The suffix keeps the built file itself (same prefix) from triggering another build.
@app.on_s3_event(bucket=get_settings().s3_bucket, prefix="exports/", suffix="job.json", events=["s3:ObjectCreated:*"])
@typed_event("S3Event")
@logger.inject_lambda_context
def export_requested(event: S3Event, context: LambdaContext):
    # Imported here: openpyxl and reportlab stay out of the API functions' cold start.
    from chalicelib.exports.builder import handle_job_object

    return handle_job_object(key=event.object_key)


@app.on_s3_event(bucket=get_settings().s3_bucket, prefix="imports/", events=["s3:ObjectCreated:*"])
@typed_event("S3Event")
@logger.inject_lambda_context
def statement_uploaded(event: S3Event, context: LambdaContext):
    from chalicelib.imports.processing import import_object
    from chalicelib.imports.uploaders import principal_of

    record = event.record
    obj = record.s3.get_object  # absent eTag/size stay None (the data class would default them)
    import_object(
        bucket=event.bucket_name,
        key=event.object_key,
        etag=obj.get("eTag"),
        size=obj.get("size"),
        writer=principal_of(record.raw_event),
    )


@app.on_s3_event(bucket=get_settings().s3_bucket, prefix="bank-sync/", suffix=".json", events=["s3:ObjectCreated:*"])
@typed_event("S3Event")
@logger.inject_lambda_context
def bank_sync_requested(event: S3Event, context: LambdaContext):
    # Imported here: the sync (and plaid-python behind it) stays out of the API's cold start.
    from chalicelib.bank_sync.jobs import handle_sync_object

    return handle_sync_object(key=event.object_key)
