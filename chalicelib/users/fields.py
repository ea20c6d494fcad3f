"""Profile and credential fields shared by registration and /users/me: what makes an
email, a password, a name, a timezone or a locale acceptable."""

import functools
import re
from datetime import date
from typing import Annotated
from zoneinfo import available_timezones

from pydantic import AfterValidator, BeforeValidator, Field

MIN_PASSWORD_LENGTH = 12
# Long enough for any passphrase or manager, short enough that nobody makes us hash a megabyte.
MAX_PASSWORD_LENGTH = 1024

# The database's users_email_format check, so a bad address is a 400 here, never a 500 there.
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
# BCP 47 as clients send it: language, optional script, optional region ("en", "pt-BR", "zh-Hant-TW").
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{4,18}[0-9]$")


# What the document says an email is: _EMAIL with the spaces and line ends around it that
# the server strips. Lower-casing comes after the check, so no non-ASCII letter that lowers
# to ASCII (the Kelvin sign) gets past what the pattern says.
_EMAIL_AROUND = " \t\r\n"
EMAIL_PATTERN = r"^[ \t\r\n]*" + _EMAIL.pattern[1:-1] + r"[ \t\r\n]*$"


def _normalize_email(value: object) -> object:
    return value.strip(_EMAIL_AROUND) if isinstance(value, str) else value


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("is not a valid email address")
    return value.lower()


@functools.cache
def timezone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def _check_timezone(value: str) -> str:
    # The names the document lists (available_timezones()), not whatever file ZoneInfo can open.
    if value not in timezone_names():
        raise ValueError("is not a known IANA timezone")
    return value


def _check_locale(value: str) -> str:
    if not _LOCALE.match(value):
        raise ValueError('is not a locale such as "en-US"')
    return value


def _check_phone(value: str) -> str:
    if not _PHONE.match(value):
        raise ValueError("is not a phone number")
    return value


def _check_birth_date(value: date) -> date:
    if value > date.today() or value.year < 1900:
        raise ValueError("is not a plausible date of birth")
    return value


Email = Annotated[
    str,
    BeforeValidator(_normalize_email),
    Field(max_length=255, json_schema_extra={"pattern": EMAIL_PATTERN}),
    AfterValidator(_check_email),
]
NewPassword = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]
# Checking a password never rejects its length below the minimum: that would tell a guesser the rule.
GivenPassword = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Timezone = Annotated[
    str,
    Field(max_length=50, json_schema_extra=lambda s: s.update(enum=list(timezone_names()))),
    AfterValidator(_check_timezone),
]
Locale = Annotated[str, Field(max_length=10, pattern=_LOCALE.pattern), AfterValidator(_check_locale)]
Phone = Annotated[str, Field(max_length=20, pattern=_PHONE.pattern), AfterValidator(_check_phone)]
BirthDate = Annotated[date, AfterValidator(_check_birth_date)]
# A TOTP code or a recovery code: printable ASCII only. Unicode digits ("١٢٣٤٥٦" passes
# str.isdigit) reached hmac.compare_digest, which refuses non-ASCII str with a TypeError (a 500).
OneTimeCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[ -~]+$")]
