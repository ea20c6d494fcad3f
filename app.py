"""FiscaFlow: the map of entry points. Routes live in blueprints; event and schedule
handlers are declared here and hand straight over to chalicelib."""

from chalice import Chalice, Rate

from chalicelib.analytics.routes import routes as analytics_routes
from chalicelib.api import chalice_errors
from chalicelib.auth.routes import routes as auth_routes
from chalicelib.budgets.routes import routes as budget_routes
from chalicelib.categorization.routes import routes as categorization_routes
from chalicelib.dashboard.routes import routes as dashboard_routes
from chalicelib.erasure.routes import routes as erasure_routes
from chalicelib.exports.routes import routes as export_routes
from chalicelib.families.routes import routes as family_routes
from chalicelib.goals.routes import routes as goal_routes
from chalicelib.imports.routes import routes as import_routes
from chalicelib.infra.settings import get_settings
from chalicelib.insights.routes import routes as insight_routes
from chalicelib.jobs import run_job
from chalicelib.ledger.accounts.routes import routes as account_routes
from chalicelib.ledger.categories.routes import routes as category_routes
from chalicelib.ledger.transactions.routes import routes as transaction_routes
from chalicelib.notifications.routes import routes as notification_routes
from chalicelib.search.routes import routes as search_routes
from chalicelib.system.routes import routes as system_routes
from chalicelib.users.routes import routes as user_routes

app = Chalice(app_name="fiscaflow")
app.api.binary_types = []  # JSON only; files move through presigned URLs
chalice_errors.install(app)  # 404/405/415 written by Chalice itself, in the contract's shape

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
app.register_blueprint(import_routes.blueprint)
app.register_blueprint(categorization_routes.blueprint)


@app.schedule(Rate(1, unit=Rate.DAYS), name="partitions")
def partitions(event):
    return run_job("partitions")


@app.schedule(Rate(1, unit=Rate.DAYS), name="retention")
def retention(event):
    return run_job("retention")


@app.schedule(Rate(1, unit=Rate.DAYS), name="backup")
def backup(event):
    return run_job("backup")


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


# The suffix keeps the built file itself (same prefix) from triggering another build.
@app.on_s3_event(bucket=get_settings().s3_bucket, prefix="exports/", suffix="job.json", events=["s3:ObjectCreated:*"])
def export_requested(event):
    # Imported here: openpyxl and reportlab stay out of the API functions' cold start.
    from chalicelib.exports.builder import handle_job_object

    return handle_job_object(key=event.key)


@app.on_s3_event(bucket=get_settings().s3_bucket, prefix="imports/", events=["s3:ObjectCreated:*"])
def statement_uploaded(event):
    from chalicelib.imports.processing import import_object

    obj = event.to_dict()["Records"][0]["s3"]["object"]  # eTag and size are not on Chalice's S3Event
    import_object(bucket=event.bucket, key=event.key, etag=obj.get("eTag"), size=obj.get("size"))
