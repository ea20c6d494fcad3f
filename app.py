"""FiscaFlow: the map of entry points. Routes live in blueprints; event and schedule
handlers are declared here and hand straight over to chalicelib."""

from chalice import Chalice, Rate

from chalicelib.exports.routes import routes as export_routes
from chalicelib.infra.settings import get_settings
from chalicelib.jobs import run_job
from chalicelib.system.routes import routes as system_routes

app = Chalice(app_name="fiscaflow")
app.api.binary_types = []  # JSON only; files move through presigned URLs

app.register_blueprint(system_routes.blueprint)
app.register_blueprint(export_routes.blueprint)


@app.schedule(Rate(1, unit=Rate.DAYS), name="partitions")
def partitions(event):
    return run_job("partitions")


# The suffix keeps the built file itself (same prefix) from triggering another build.
@app.on_s3_event(bucket=get_settings().s3_bucket, prefix="exports/", suffix="job.json", events=["s3:ObjectCreated:*"])
def export_requested(event):
    # Imported here: openpyxl and reportlab stay out of the API functions' cold start.
    from chalicelib.exports.builder import handle_job_object

    return handle_job_object(key=event.key)
