"""What every ledger or family write does beside the change itself, in the same
database transaction: an audit row with masked before/after, and cache invalidation
(after commit) for everyone who could see the resource before or after."""

from typing import Any
from uuid import UUID

import psycopg

from chalicelib.audit.service import record_audit
from chalicelib.core import caching
from chalicelib.core.actor import Actor

Owner = tuple[UUID, UUID | None]  # (user_id, family_id) of a resource


def record_change(
    conn: psycopg.Connection,
    *,
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: UUID,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    owners: list[Owner],
) -> None:
    record_audit(
        conn,
        actor=actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        data={"before": before, "after": after},
    )
    for owner_id, family_id in dict.fromkeys(owners):
        caching.invalidate_visible_to(conn, owner_id=owner_id, family_id=family_id)
