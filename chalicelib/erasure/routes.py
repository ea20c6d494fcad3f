"""DELETE /users/me: the right to erasure."""

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.erasure import service

routes = ApiBlueprint(__name__, tag="users")


@routes.route("/users/me", method="DELETE", status=204)
def erase_me(ctx: RequestContext):
    """Erase the caller's personal data; shared family data and the masked audit trail stay."""
    service.erase_me(ctx, user_id=ctx.user_id)
