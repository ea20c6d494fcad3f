"""FiscaFlow: the map of entry points. Routes live in blueprints; event and schedule
handlers are declared here and hand straight over to chalicelib."""

from chalice import Chalice, Rate

from chalicelib.jobs import run_job
from chalicelib.system.routes import routes as system_routes

app = Chalice(app_name="fiscaflow")
app.api.binary_types = []  # JSON only; files move through presigned URLs

app.register_blueprint(system_routes.blueprint)


@app.schedule(Rate(1, unit=Rate.DAYS), name="partitions")
def partitions(event):
    return run_job("partitions")
