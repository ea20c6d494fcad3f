"""Masking of personal data before it reaches a log line or an audit row.

Powertools' DataMasking does the work; the rules keep enough shape for a person to
recognise the value (domain of an email, last four digits) and never add keys that
were absent (raise_on_missing_field=False)."""

import warnings
from typing import Any

from aws_lambda_powertools.utilities.data_masking import DataMasking
from pydantic_core import to_jsonable_python

_masker = DataMasking(raise_on_missing_field=False)

_PARTIAL_RULES = {
    "$..email": {"regex_pattern": r"^(.)[^@]*(@.*)$", "mask_format": r"\1***\2"},
    "$..account_number": {"regex_pattern": r"^.*(.{4})$", "mask_format": r"****\1"},
    "$..phone": {"regex_pattern": r"^.*(.{2})$", "mask_format": r"***-***-**\1"},
}
_ERASED_FIELDS = [
    "$..password",
    "$..current_password",
    "$..new_password",
    "$..password_hash",
    "$..refresh_token",
    "$..access_token",
    "$..token",
    "$..totp_secret",
    "$..secret",
    "$..totp_code",
    "$..recovery_codes",
    "$..date_of_birth",
    "$..authorization",
    "$..Authorization",
]


def mask(data: Any) -> Any:
    """A masked deep copy of a JSON-like value; the input is left untouched.

    The copy is made JSON-plain first (UUIDs, dates and times, Decimals as strings;
    anything else by str()): DataMasking round-trips the value through json.dumps, and
    one UUID in a log record's extras used to fail the formatter and drop the line."""
    if not isinstance(data, (dict, list)) or not data:
        return data
    value = to_jsonable_python(data, fallback=str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "field not found" is expected for most payloads
        value = _masker.erase(value, masking_rules=_PARTIAL_RULES)
        value = _masker.erase(value, fields=_ERASED_FIELDS)
    return value
