"""/goals (API.md "Goals")."""

from uuid import UUID

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.goals import service
from chalicelib.goals.models import ContributionIn, GoalCreate, GoalListQuery, GoalOut, GoalPage, GoalPatch

routes = ApiBlueprint(__name__, tag="goals")


@routes.route("/goals", method="POST", body=GoalCreate, response=GoalOut, status=201, errors_=(400, 403, 404))
def create_goal(ctx: RequestContext, body: GoalCreate):
    """Create a savings goal."""
    return GoalOut.model_validate(service.create_goal(actor=ctx.actor, data=body))


@routes.route("/goals", query=GoalListQuery, response=GoalPage, errors_=(400, 404))
def list_goals(ctx: RequestContext, query: GoalListQuery):
    """The caller's and their families' goals."""
    goals, next_cursor = service.list_goals(
        user_id=ctx.user_id,
        family_id=query.family_id,
        include_inactive=query.include_inactive,
        cursor=query.cursor,
        limit=query.limit,
    )
    return GoalPage(items=[GoalOut.model_validate(g) for g in goals], next_cursor=next_cursor)


@routes.route("/goals/{goal_id}", response=GoalOut, errors_=(404,))
def get_goal(ctx: RequestContext, goal_id: UUID):
    """One goal."""
    return GoalOut.model_validate(service.get_goal(user_id=ctx.user_id, goal_id=goal_id))


@routes.route("/goals/{goal_id}", method="PATCH", body=GoalPatch, response=GoalOut, errors_=(400, 403, 404))
def update_goal(ctx: RequestContext, goal_id: UUID, body: GoalPatch):
    """Change a goal."""
    return GoalOut.model_validate(service.update_goal(actor=ctx.actor, goal_id=goal_id, data=body))


@routes.route("/goals/{goal_id}", method="DELETE", status=204, errors_=(403, 404))
def delete_goal(ctx: RequestContext, goal_id: UUID):
    """Delete a goal."""
    service.delete_goal(actor=ctx.actor, goal_id=goal_id)


@routes.route(
    "/goals/{goal_id}/contributions", method="POST", body=ContributionIn, response=GoalOut, errors_=(400, 403, 404)
)
def contribute(ctx: RequestContext, goal_id: UUID, body: ContributionIn):
    """Add to a goal's saved amount (negative: take from it); milestones notify once."""
    return GoalOut.model_validate(service.contribute(actor=ctx.actor, goal_id=goal_id, data=body))
