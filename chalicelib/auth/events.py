"""What an auth event leaves behind: an audit row (always) and, for the events a person
must hear about, a `security` notification. Both go into the caller's transaction."""

from typing import Any
from uuid import UUID

import psycopg

from chalicelib.audit.service import record_audit
from chalicelib.core.actor import Actor
from chalicelib.infra.logging import logger
from chalicelib.notifications.service import create_notification


def audit(
    conn: psycopg.Connection,
    action: str,
    *,
    actor: Actor,
    user_id: UUID | None,
    resource_type: str = "session",
    resource_id: UUID | None = None,
    data: dict[str, Any] | None = None,
    success: bool = True,
    error: str | None = None,
) -> None:
    record_audit(
        conn,
        actor=actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        user_id=user_id,
        data=data,
        success=success,
        error_message=error,
    )
    # The same event in the log stream (masked by the formatter) for alarms on failure bursts.
    logger.info(
        "auth event",
        extra={
            "action": action,
            "user_id": str(user_id) if user_id else None,
            "success": success,
            "error": error,
            "data": data,
            "ip_address": actor.ip_address,
        },
    )


_NOTICES = {
    "new_device": (
        "New sign-in to your account",
        "Your account was signed in from a device we had not seen before{where}.",
    ),
    "password_changed": (
        "Your password was changed",
        "Your password was changed and your other sessions were signed out. If this was not you, reset it now.",
    ),
    "two_factor_enabled": (
        "Two-factor authentication turned on",
        "Two-factor authentication is now on for your account.",
    ),
    "two_factor_disabled": (
        "Two-factor authentication turned off",
        "Two-factor authentication was turned off for your account. If this was not you, change your password.",
    ),
    "recovery_code_used": (
        "A recovery code was used",
        "A two-factor recovery code was used to sign in; {left} unused codes remain.",
    ),
    "token_reuse": (
        "A signed-out session was used again",
        "An old sign-in token was presented again, so that session was signed out everywhere. "
        "If this keeps happening, change your password.",
    ),
}


def notify_security(
    conn: psycopg.Connection,
    *,
    user_id: UUID,
    event: str,
    data: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    **fmt: Any,
) -> None:
    title, message = _NOTICES[event]
    create_notification(
        conn,
        user_id=user_id,
        type="security",
        title=title,
        message=message.format(**fmt),
        data={"event": event, **(data or {})},
        priority="high",
        dedupe_key=dedupe_key,
    )
