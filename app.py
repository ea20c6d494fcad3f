"""FiscaFlow: the map of entry points. Routes live in blueprints; event and schedule
handlers are declared here and hand straight over to chalicelib."""

from chalice import Chalice, Rate

from chalicelib.analytics.routes import routes as analytics_routes
from chalicelib.api import chalice_errors
from chalicelib.auth.routes import routes as auth_routes
from chalicelib.bank_sync.routes import routes as bank_sync_routes
from chalicelib.budgets.routes import routes as budget_routes
from chalicelib.categorization.routes import routes as categorization_routes
from chalicelib.dashboard.routes import routes as dashboard_routes
from chalicelib.erasure.routes import routes as erasure_routes
from chalicelib.exports.routes import routes as export_routes
from chalicelib.families.routes import routes as family_routes
from chalicelib.goals.routes import routes as goal_routes
from chalicelib.imports.drop_routes import routes as import_drop_routes
from chalicelib.imports.routes import routes as import_routes
from chalicelib.infra.settings import get_settings
from chalicelib.insights.routes import routes as insight_routes
from chalicelib.jobs import run_job
from chalicelib.ledger.accounts.routes import routes as account_routes
from chalicelib.ledger.categories.routes import routes as category_routes
from chalicelib.ledger.transactions.routes import routes as transaction_routes
from chalicelib.live import connections as live_connections
from chalicelib.live import publisher as live_publisher
from chalicelib.live.management_api import ManagementWebsocketAPI
from chalicelib.notifications.routes import routes as notification_routes
from chalicelib.search.routes import routes as search_routes
from chalicelib.system.routes import routes as system_routes
from chalicelib.users.routes import routes as user_routes

app = Chalice(app_name="fiscaflow")
app.api.binary_types = []  # JSON only; files move through presigned URLs
chalice_errors.install(app)  # 404/405/415 written by Chalice itself, in the contract's shape

# Live updates (API.md "Live updates"): API Gateway's WebSocket API, the three handlers
# below; every function pushes through this websocket_api once its write commits.
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.websocket_api = ManagementWebsocketAPI(endpoint=get_settings().live_management_endpoint)
live_publisher.bind(app.websocket_api)


def _dashboard_figures(*, user_id):
    # Wired here, not imported by live: the dashboard reads budgets and notifications,
    # which push through live. Imported on first push, so it costs no cold start.
    from chalicelib.dashboard.service import live_figures

    return live_figures(user_id=user_id)


live_publisher.figures_from(_dashboard_figures)

app.register_blueprint(system_routes.blueprint)
app.register_blueprint(auth_routes.blueprint)
app.register_blueprint(user_routes.blueprint)
app.register_blueprint(erasure_routes.blueprint)
app.register_blueprint(family_routes.blueprint)
app.register_blueprint(account_routes.blueprint)
app.register_blueprint(category_routes.blueprint)
app.register_blueprint(transaction_routes.blueprint)
app.register_blueprint(export_routes.blueprint)
app.register_blueprint(budget_routes.blueprint)
app.register_blueprint(goal_routes.blueprint)
app.register_blueprint(notification_routes.blueprint)
app.register_blueprint(insight_routes.blueprint)
app.register_blueprint(dashboard_routes.blueprint)
app.register_blueprint(search_routes.blueprint)
app.register_blueprint(analytics_routes.blueprint)
app.register_blueprint(import_drop_routes.blueprint)
app.register_blueprint(import_routes.blueprint)
app.register_blueprint(categorization_routes.blueprint)
app.register_blueprint(bank_sync_routes.blueprint)


@app.on_ws_connect()
def ws_connect(event):
    query = event.to_dict().get("queryStringParameters")
    return live_connections.open_connection(connection_id=event.connection_id, query=query)


@app.on_ws_message()
def ws_message(event):
    return live_connections.handle_message(connection_id=event.connection_id, body=event.body)


@app.on_ws_disconnect()
def ws_disconnect(event):
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
