"""FiscaFlow: the map of entry points. Routes live in blueprints; event and schedule
handlers are declared here and hand straight over to chalicelib."""

from chalice import Chalice, Rate

from chalicelib.api import chalice_errors, lazy_routes
from chalicelib.infra.settings import get_settings
from chalicelib.jobs import run_job
from chalicelib.live import binding as live_binding
from chalicelib.live.management_api import ManagementWebsocketAPI

app = Chalice(app_name="fiscaflow")
app.api.binary_types = []  # JSON only; files move through presigned URLs
chalice_errors.install(app)  # 404/405/415 written by Chalice itself, in the contract's shape

# Live updates (API.md "Live updates"): API Gateway's WebSocket API, the three handlers
# below; every function pushes through this websocket_api once its write commits.
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.websocket_api = ManagementWebsocketAPI(endpoint=get_settings().live_management_endpoint)
live_binding.bind(app.websocket_api)

# Every route of every blueprint, from the checked-in route table: a routes module (its
# models and services) is imported on the first call of one of its routes, so that no
# function pays at cold start for the API it does not serve (chalicelib/api/lazy_routes.py).
lazy_routes.register(app)


@app.on_ws_connect()
def ws_connect(event):
    from chalicelib.live import connections as live_connections

    query = event.to_dict().get("queryStringParameters")
    return live_connections.open_connection(connection_id=event.connection_id, query=query)


@app.on_ws_message()
def ws_message(event):
    from chalicelib.live import connections as live_connections

    return live_connections.handle_message(connection_id=event.connection_id, body=event.body)


@app.on_ws_disconnect()
def ws_disconnect(event):
    from chalicelib.live import connections as live_connections

    return live_connections.close_connection(connection_id=event.connection_id)


@app.schedule(Rate(1, unit=Rate.DAYS), name="partitions")
def partitions(event):
    return run_job("partitions")


@app.schedule(Rate(1, unit=Rate.DAYS), name="retention")
def retention(event):
    return run_job("retention")


@app.schedule(Rate(1, unit=Rate.DAYS), name="backup")
def backup(event):
    return run_job("backup")


@app.schedule(Rate(1, unit=Rate.DAYS), name="files-backup")
def files_backup(event):
    return run_job("files-backup")


@app.schedule(Rate(1, unit=Rate.HOURS), name="budget-alerts")
def budget_alerts(event):
    return run_job("budget-alerts")


@app.schedule(Rate(1, unit=Rate.DAYS), name="unusual-spending")
def unusual_spending(event):
    return run_job("unusual-spending")


@app.schedule(Rate(1, unit=Rate.DAYS), name="bill-reminders")
def bill_reminders(event):
    return run_job("bill-reminders")


@app.schedule(Rate(1, unit=Rate.MINUTES), name="search-sync")
def search_sync(event):
    return run_job("search-sync")


@app.schedule(Rate(5, unit=Rate.MINUTES), name="import-sweep")
def import_sweep(event):
    return run_job("import-sweep")


@app.schedule(Rate(6, unit=Rate.HOURS), name="bank-sync")
def bank_sync(event):
    return run_job("bank-sync")


# The suffix keeps the built file itself (same prefix) from triggering another build.
@app.on_s3_event(bucket=get_settings().s3_bucket, prefix="exports/", suffix="job.json", events=["s3:ObjectCreated:*"])
def export_requested(event):
    # Imported here: openpyxl and reportlab stay out of the API functions' cold start.
    from chalicelib.exports.builder import handle_job_object

    return handle_job_object(key=event.key)


@app.on_s3_event(bucket=get_settings().s3_bucket, prefix="imports/", events=["s3:ObjectCreated:*"])
def statement_uploaded(event):
    from chalicelib.imports.processing import import_object
    from chalicelib.imports.uploaders import principal_of

    record = event.to_dict()["Records"][0]
    obj = record["s3"]["object"]  # eTag, size and the writer are not on Chalice's S3Event
    import_object(
        bucket=event.bucket, key=event.key, etag=obj.get("eTag"), size=obj.get("size"), writer=principal_of(record)
    )


@app.on_s3_event(bucket=get_settings().s3_bucket, prefix="bank-sync/", suffix=".json", events=["s3:ObjectCreated:*"])
def bank_sync_requested(event):
    # Imported here: the sync (and plaid-python behind it) stays out of the API's cold start.
    from chalicelib.bank_sync.jobs import handle_sync_object

    return handle_sync_object(key=event.key)
