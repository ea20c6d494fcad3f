"""DELETE /users/me: the right to erasure."""

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.erasure import service
from chalicelib.erasure.models import EraseIn

routes = ApiBlueprint(__name__, tag="users")


@routes.route("/users/me", method="DELETE", body=EraseIn, status=204, errors_=(401, 429))
def erase_me(ctx: RequestContext, body: EraseIn):
    """Erase the caller's personal data; shared family data and the masked audit trail stay."""
    service.erase_me(actor=ctx.actor, password=body.password, totp_code=body.totp_code)
