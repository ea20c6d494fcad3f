"""GET /dashboard (API.md "Dashboard")."""

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.dashboard import service
from chalicelib.dashboard.models import DashboardOut

routes = ApiBlueprint(__name__, tag="dashboard")


@routes.route("/dashboard", response=DashboardOut)
def dashboard(ctx: RequestContext):
    """Spending today and this month, top categories, budget states, unread notifications."""
    return service.get_dashboard(user_id=ctx.user_id)
