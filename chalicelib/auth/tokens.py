"""Access tokens: short-lived HS256 JWTs carrying the session id.

The algorithm is pinned on decode, so a token signed with another algorithm (or
`alg: none`) is refused whatever its header says."""

import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID

import jwt

from chalicelib.errors import Unauthorized
from chalicelib.infra.settings import get_settings

ACCESS_TOKEN_TTL = timedelta(minutes=15)
_ALGORITHM = "HS256"
_ISSUER = "fiscaflow"


def _key() -> str:
    secret = get_settings().jwt_signing_key
    if secret is None:
        raise RuntimeError("JWT_SIGNING_KEY is not configured")
    return secret.get_secret_value()


def issue_access_token(*, user_id: UUID, session_id: UUID, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    claims = {
        "iss": _ISSUER,
        "sub": str(user_id),
        "sid": str(session_id),
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int((now + ACCESS_TOKEN_TTL).timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, _key(), algorithm=_ALGORITHM)


def decode_access_token(token: str) -> tuple[UUID, UUID]:
    """(user_id, session_id) of a valid access token; Unauthorized otherwise."""
    try:
        claims = jwt.decode(
            token,
            _key(),
            algorithms=[_ALGORITHM],
            issuer=_ISSUER,
            options={"require": ["exp", "iat", "sub", "sid", "typ"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token has expired", code="token_expired") from None
    except jwt.PyJWTError:
        raise Unauthorized("The access token is not valid") from None
    if claims.get("typ") != "access":
        raise Unauthorized("The access token is not valid")
    try:
        return UUID(claims["sub"]), UUID(claims["sid"])
    except (ValueError, TypeError):
        raise Unauthorized("The access token is not valid") from None
