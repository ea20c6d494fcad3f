"""The gate in front of every authenticated route."""

from chalicelib.api.context import Principal, RequestContext
from chalicelib.auth import ratelimit
from chalicelib.auth.sessions import session_is_active
from chalicelib.auth.tokens import decode_access_token
from chalicelib.errors import Unauthorized


def bearer_token(ctx: RequestContext) -> str:
    header = ctx.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("A bearer access token is required")
    return token.strip()


def guard_request(ctx: RequestContext) -> None:
    """Authenticate the caller, apply the per-user request limit, attach the principal."""
    user_id, session_id = decode_access_token(bearer_token(ctx))
    if not session_is_active(user_id=user_id, session_id=session_id):
        raise Unauthorized("This session has been signed out", code="token_revoked")
    # Counted after authentication, per user: an anonymous flood cannot use up someone's budget.
    ratelimit.hit(ratelimit.api_user_limit(), str(user_id))
    ctx.principal = Principal(user_id=user_id, session_id=session_id)
