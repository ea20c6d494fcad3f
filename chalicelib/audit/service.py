"""The audit trail: one row per security event or change, written in the caller's
transaction so it exists exactly when the change does. Data is masked on the way in."""

from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb
from pydantic_core import to_jsonable_python

from chalicelib.api.context import RequestContext
from chalicelib.infra.masking import mask


def record_audit(
    conn: psycopg.Connection,
    ctx: RequestContext | None,
    *,
    action: str,
    resource_type: str,
    resource_id: UUID | None = None,
    user_id: UUID | None = None,
    data: dict[str, Any] | None = None,
    success: bool = True,
    error_message: str | None = None,
) -> None:
    principal = ctx.principal if ctx else None
    conn.execute(
        """INSERT INTO audit_logs (user_id, session_id, action, resource_type, resource_id, resource_data,
                                   ip_address, user_agent, success, error_message)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            user_id or (principal.user_id if principal else None),
            principal.session_id if principal else None,
            action,
            resource_type,
            resource_id,
            Jsonb(mask(to_jsonable_python(data))) if data is not None else None,
            _valid_ip(ctx.ip_address) if ctx else None,
            ctx.user_agent if ctx else None,
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
