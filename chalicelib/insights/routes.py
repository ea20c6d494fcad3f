"""GET /recurring: recurring payments detected from the caller's history."""

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.insights import bills
from chalicelib.insights.models import RecurringList

routes = ApiBlueprint(__name__, tag="insights")


@routes.route("/recurring", response=RecurringList)
def list_recurring(ctx: RequestContext):
    """Recurring payments found in the caller's transactions, next due first."""
    return bills.list_recurring(user_id=ctx.user_id)
