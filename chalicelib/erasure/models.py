"""DELETE /users/me body: the password again (and the second factor when it is on)."""

from pydantic import Field

from chalicelib.core.types import RequestModel
from chalicelib.users.fields import MAX_PASSWORD_LENGTH


class EraseIn(RequestModel):
    # Optional in the schema on purpose: a missing password is a 401 like a wrong one
    # (API.md), not a 400 that would tell a token thief what is missing.
    password: str | None = Field(default=None, max_length=MAX_PASSWORD_LENGTH)
    # A 6-digit TOTP code, or a recovery code; required when 2FA is on.
    totp_code: str | None = Field(default=None, max_length=64)
