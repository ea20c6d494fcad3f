"""What every ledger or family write does beside the change itself, in the same
database transaction: an audit row with masked before/after, and cache invalidation
(after commit) for everyone who could see the resource before or after."""

from typing import Any
from uuid import UUID

import psycopg

from chalicelib.api.context import RequestContext
from chalicelib.audit.service import record_audit
from chalicelib.infra import invalidation

Owner = tuple[UUID, UUID | None]  # (user_id, family_id) of a resource


def record_change(
    conn: psycopg.Connection,
    ctx: RequestContext,
    *,
    action: str,
    resource_type: str,
    resource_id: UUID,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    owners: list[Owner],
) -> None:
    record_audit(
        conn,
        ctx,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        data={"before": before, "after": after},
    )
    for owner_id, family_id in dict.fromkeys(owners):
        invalidation.invalidate_visible_to(conn, owner_id=owner_id, family_id=family_id)
