"""Request and response models of /users/me."""

from datetime import date
from uuid import UUID

from chalicelib.core.types import RequestModel, ResponseModel, Timestamp
from chalicelib.users.fields import BirthDate, GivenPassword, Locale, Name, NewPassword, Phone, Timezone


class UserOut(ResponseModel):
    id: UUID
    email: str
    first_name: str | None
    last_name: str | None
    phone: str | None
    date_of_birth: date | None
    timezone: str
    locale: str
    role: str
    status: str
    email_verified: bool
    two_factor_enabled: bool
    created_at: Timestamp


class UserPatch(RequestModel):
    """Fields sent are changed; null clears the optional ones. The email cannot change here."""

    first_name: Name | None = None
    last_name: Name | None = None
    phone: Phone | None = None
    date_of_birth: BirthDate | None = None
    timezone: Timezone = None
    locale: Locale = None


class PasswordChange(RequestModel):
    current_password: GivenPassword
    new_password: NewPassword
