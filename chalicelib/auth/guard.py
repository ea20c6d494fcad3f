"""The gate in front of every authenticated route."""

from uuid import UUID

from chalicelib.auth import ratelimit
from chalicelib.auth.sessions import session_is_active
from chalicelib.auth.tokens import decode_access_token
from chalicelib.errors import Unauthorized


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("A bearer access token is required")
    return token.strip()


def authenticate(authorization: str | None) -> tuple[UUID, UUID]:
    """The (user id, session id) of a live session's access token, after the per-user request limit."""
    user_id, session_id = decode_access_token(bearer_token(authorization))
    if not session_is_active(user_id=user_id, session_id=session_id):
        raise Unauthorized("This session has been signed out", code="token_revoked")
    # Counted after authentication, per user: an anonymous flood cannot use up someone's budget.
    ratelimit.hit(ratelimit.api_user_limit(), str(user_id))
    return user_id, session_id
