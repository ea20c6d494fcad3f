"""Personal values removed from an audit row's resource_data when its person is erased.

Audit rows are written masked already (an email keeps its first letter and domain, see
infra/masking); after erasure even that shape is too much. Values under personal keys,
and any string that contains the person's email address or names, become ERASED; keys
are kept (what happened stays readable, about whom does not), and none are added."""

from typing import Any

ERASED = "[erased]"
PERSONAL_KEYS = frozenset(
    {
        "email",
        "new_email",
        "first_name",
        "last_name",
        "full_name",
        "phone",
        "date_of_birth",
        "ip_address",
        "ip",
        "user_agent",
        "device_info",
        "address",
        "account_number",
        "password",
        "password_hash",
        "totp_secret",
        "token",
        "refresh_token",
    }
)
_MIN_NAME = 3  # shorter names ("Al") would erase unrelated words


def _identifying(person: dict[str, Any]) -> list[str]:
    values = [person.get("email") or ""]
    values += [n for n in (person.get("first_name"), person.get("last_name")) if n and len(n) >= _MIN_NAME]
    return [v.lower() for v in values if v]


def scrub(data: Any, person: dict[str, Any]) -> Any:
    """A copy of `data` with `person`'s personal values replaced."""
    needles = _identifying(person)

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ERASED if k.lower() in PERSONAL_KEYS and v is not None else walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str) and any(n in value.lower() for n in needles):
            return ERASED
        return value

    return walk(data)
