"""Request and response models of /auth."""

from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from chalicelib.core.types import RequestModel, ResponseModel, Timestamp
from chalicelib.users.fields import Email, GivenPassword, Locale, Name, NewPassword, OneTimeCode, Timezone
from chalicelib.users.models import UserOut


class RegisterIn(RequestModel):
    email: Email
    password: NewPassword
    first_name: Name | None = None
    last_name: Name | None = None
    timezone: Timezone = "UTC"
    locale: Locale = "en-US"
    # Shown back in GET /auth/sessions so a person can tell their devices apart.
    device_name: str | None = Field(default=None, max_length=100)


class LoginIn(RequestModel):
    email: Email
    password: GivenPassword
    # A 6-digit TOTP code, or one of the recovery codes given at 2FA enable.
    totp_code: OneTimeCode | None = None
    device_name: str | None = Field(default=None, max_length=100)


class RefreshIn(RequestModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class TokenPairOut(ResponseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class AuthOut(TokenPairOut):
    user: UserOut


class SessionOut(ResponseModel):
    id: UUID
    device_info: dict[str, Any] | None
    ip_address: str | None
    user_agent: str | None
    created_at: Timestamp
    expires_at: Timestamp
    current: bool


class SessionList(ResponseModel):
    items: list[SessionOut]


class TotpSetupOut(ResponseModel):
    secret: str
    otpauth_uri: str


class CodeIn(RequestModel):
    code: OneTimeCode


class TwoFactorOut(ResponseModel):
    enabled: bool
    # Only in the answer to /auth/2fa/enable: shown once, stored hashed.
    recovery_codes: list[str] | None = None


class TokenIn(RequestModel):
    token: str = Field(min_length=1, max_length=512)


class EmailVerifiedOut(ResponseModel):
    email_verified: bool


class PasswordResetRequestIn(RequestModel):
    email: Email


class PasswordResetConfirmIn(RequestModel):
    token: str = Field(min_length=1, max_length=512)
    new_password: NewPassword


class AcceptedOut(ResponseModel):
    status: Literal["accepted"] = "accepted"
    message: str
