"""GET /analytics/spending, /analytics/cashflow, /analytics/net-worth (API.md "Analytics")."""

from chalicelib.analytics import service
from chalicelib.analytics.models import (
    CashflowQuery,
    CashflowResult,
    NetWorthQuery,
    NetWorthResult,
    SpendingQuery,
    SpendingResult,
)
from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint

routes = ApiBlueprint(__name__, tag="analytics")


@routes.route("/analytics/spending", query=SpendingQuery, response=SpendingResult, errors_=(400, 404))
def spending(ctx: RequestContext, query: SpendingQuery):
    """Spending (outflows minus refunds) grouped by category, top category, merchant, month or account."""
    return service.spending(user_id=ctx.user_id, query=query)


@routes.route("/analytics/cashflow", query=CashflowQuery, response=CashflowResult, errors_=(400, 404))
def cashflow(ctx: RequestContext, query: CashflowQuery):
    """Income, expenses and net per month or week, transfers excluded."""
    return service.cashflow(user_id=ctx.user_id, query=query)


@routes.route("/analytics/net-worth", query=NetWorthQuery, response=NetWorthResult, errors_=(400, 404))
def net_worth(ctx: RequestContext, query: NetWorthQuery):
    """Assets, liabilities and net worth at each month's end; the last point is today."""
    return service.net_worth(user_id=ctx.user_id, query=query)
