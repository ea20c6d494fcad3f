"""/users/me: the signed-in user's profile and password."""

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.auth import service as auth_service
from chalicelib.users import service
from chalicelib.users.models import PasswordChange, UserOut, UserPatch

routes = ApiBlueprint(__name__, tag="users")


@routes.route("/users/me", response=UserOut)
def get_me(ctx: RequestContext):
    """The caller's profile."""
    return UserOut.model_validate(service.get_me(user_id=ctx.user_id))


@routes.route("/users/me", method="PATCH", body=UserPatch, response=UserOut)
def update_me(ctx: RequestContext, body: UserPatch):
    """Change the caller's profile fields; null clears an optional one."""
    return UserOut.model_validate(service.update_me(actor=ctx.actor, data=body))


@routes.route("/users/me/password", method="POST", body=PasswordChange, status=204, errors_=(401,))
def change_password(ctx: RequestContext, body: PasswordChange):
    """Change the password; every other session is signed out."""
    auth_service.change_password(
        actor=ctx.actor, current_password=body.current_password, new_password=body.new_password
    )
