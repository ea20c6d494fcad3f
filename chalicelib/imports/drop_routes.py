"""POST /imports/credentials."""

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.imports import drop_credentials
from chalicelib.imports.models import DropCredentialsIn, DropCredentialsOut

routes = ApiBlueprint(__name__, tag="imports")


@routes.route(
    "/imports/credentials",
    method="POST",
    body=DropCredentialsIn,
    response=DropCredentialsOut,
    errors_=(403, 404, 503),
)
def issue_drop_credentials(ctx: RequestContext, body: DropCredentialsIn):
    """Short-lived storage credentials confined to imports/{user_id}/, for a sync tool that drops files itself."""
    return drop_credentials.issue_drop_credentials(actor=ctx.actor, account_id=body.account_id)
