"""/budgets (API.md "Budgets")."""

from uuid import UUID

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.budgets import service
from chalicelib.budgets.models import (
    BudgetCreate,
    BudgetListQuery,
    BudgetOut,
    BudgetPage,
    BudgetPatch,
    BudgetStatus,
    StatusQuery,
)

routes = ApiBlueprint(__name__, tag="budgets")


@routes.route("/budgets", method="POST", body=BudgetCreate, response=BudgetOut, status=201, errors_=(400, 403, 404))
def create_budget(ctx: RequestContext, body: BudgetCreate):
    """Create a budget with per-category allocations."""
    return BudgetOut.model_validate(service.create_budget(actor=ctx.actor, data=body))


@routes.route("/budgets", query=BudgetListQuery, response=BudgetPage, errors_=(400, 404))
def list_budgets(ctx: RequestContext, query: BudgetListQuery):
    """The caller's and their families' budgets."""
    budgets, next_cursor = service.list_budgets(
        user_id=ctx.user_id,
        family_id=query.family_id,
        include_inactive=query.include_inactive,
        cursor=query.cursor,
        limit=query.limit,
    )
    return BudgetPage(items=[BudgetOut.model_validate(b) for b in budgets], next_cursor=next_cursor)


@routes.route("/budgets/{budget_id}", response=BudgetOut, errors_=(404,))
def get_budget(ctx: RequestContext, budget_id: UUID):
    """One budget."""
    return BudgetOut.model_validate(service.get_budget(user_id=ctx.user_id, budget_id=budget_id))


@routes.route("/budgets/{budget_id}", method="PATCH", body=BudgetPatch, response=BudgetOut, errors_=(400, 403, 404))
def update_budget(ctx: RequestContext, budget_id: UUID, body: BudgetPatch):
    """Change a budget; `categories` replaces its allocations."""
    return BudgetOut.model_validate(service.update_budget(actor=ctx.actor, budget_id=budget_id, data=body))


@routes.route("/budgets/{budget_id}", method="DELETE", status=204, errors_=(403, 404))
def delete_budget(ctx: RequestContext, budget_id: UUID):
    """Delete a budget."""
    service.delete_budget(actor=ctx.actor, budget_id=budget_id)


@routes.route("/budgets/{budget_id}/status", query=StatusQuery, response=BudgetStatus, errors_=(400, 404))
def budget_status(ctx: RequestContext, budget_id: UUID, query: StatusQuery):
    """Spent, remaining and state per category for the period containing `date`."""
    return service.budget_status(user_id=ctx.user_id, budget_id=budget_id, on=query.on)
