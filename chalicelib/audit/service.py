"""The audit trail: one row per security event or change, written in the caller's
transaction so it exists exactly when the change does. Data is masked on the way in."""

from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb
from pydantic_core import to_jsonable_python

from chalicelib.core.actor import Actor
from chalicelib.infra.masking import mask


def record_audit(
    conn: psycopg.Connection,
    *,
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: UUID | None = None,
    user_id: UUID | None = None,
    data: dict[str, Any] | None = None,
    success: bool = True,
    error_message: str | None = None,
) -> None:
    # A system actor (the S3 import, a schedule) has no session, address or user agent; the
    # row names the user it acted for through `user_id`.
    conn.execute(
        """INSERT INTO audit_logs (user_id, session_id, action, resource_type, resource_id, resource_data,
                                   ip_address, user_agent, success, error_message)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            user_id or actor.user_id,
            actor.session_id,
            action,
            resource_type,
            resource_id,
            Jsonb(mask(to_jsonable_python(data))) if data is not None else None,
            _valid_ip(actor.ip_address),
            actor.user_agent,
            success,
            error_message,
        ),
    )


def _valid_ip(value: str | None) -> str | None:
    import ipaddress

    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None
