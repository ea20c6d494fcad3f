"""GET|POST /categorization-rules, PATCH|DELETE /categorization-rules/{rule_id}."""

from uuid import UUID

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.categorization import service
from chalicelib.categorization.models import RuleCreate, RuleListQuery, RuleOut, RulePage, RulePatch

routes = ApiBlueprint(__name__, tag="categorization")


@routes.route("/categorization-rules", query=RuleListQuery, response=RulePage, errors_=(403, 404))
def list_rules(ctx: RequestContext, query: RuleListQuery):
    """Categorization rules the caller can see (their own and their families')."""
    rules, next_cursor = service.list_rules(
        user_id=ctx.user_id, limit=query.limit, cursor=query.cursor, family_id=query.family_id
    )
    return RulePage(items=[RuleOut.model_validate(r) for r in rules], next_cursor=next_cursor)


@routes.route("/categorization-rules", method="POST", body=RuleCreate, response=RuleOut, status=201, errors_=(403, 404))
def create_rule(ctx: RequestContext, body: RuleCreate):
    """Create a rule: description/merchant contains, equals, starts with or matches a regex -> category."""
    return RuleOut.model_validate(service.create_rule(actor=ctx.actor, data=body))


@routes.route("/categorization-rules/{rule_id}", method="PATCH", body=RulePatch, response=RuleOut, errors_=(403, 404))
def update_rule(ctx: RequestContext, rule_id: UUID, body: RulePatch):
    """Change a categorization rule."""
    return RuleOut.model_validate(service.update_rule(actor=ctx.actor, rule_id=rule_id, data=body))


@routes.route("/categorization-rules/{rule_id}", method="DELETE", status=204, errors_=(403, 404))
def delete_rule(ctx: RequestContext, rule_id: UUID):
    """Delete a categorization rule."""
    service.delete_rule(actor=ctx.actor, rule_id=rule_id)
