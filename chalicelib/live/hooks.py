"""What other domains call when something a client may be watching changes. Each one
only gathers the push; it is sent after the caller's transaction commits (publisher)."""

from typing import Any
from uuid import UUID

import psycopg

from chalicelib.families.access import readers_of
from chalicelib.live import publisher


def notification_created(*, user_id: UUID, notification: Any) -> None:
    """notification.created with the notification as GET /notifications shows it."""
    publisher.publish(user_ids=[user_id], topic="notifications", type="notification.created", data=notification)


def import_updated(*, user_id: UUID, resource: Any) -> None:
    """imports.updated: an import (GET /imports/{id}) changed status. Imports are personal."""
    publisher.publish(user_ids=[user_id], topic="imports", type="imports.updated", data=resource)


def export_updated(*, user_id: UUID, resource: Any) -> None:
    """exports.updated: an export job (GET /exports/{id}) changed status. Exports are personal."""
    publisher.publish(user_ids=[user_id], topic="exports", type="exports.updated", data=resource)


def bank_sync_finished(
    conn: psycopg.Connection, *, owner_id: UUID, family_id: UUID | None, resource: dict[str, Any]
) -> None:
    """bank_sync.updated, for the bank-sync domain to call inside the transaction that
    records a finished sync of an account (owner_id/family_id are the account's): everyone
    who may read the account receives the resource, nobody else."""
    audience = readers_of(conn, owner_id=owner_id, family_id=family_id)
    publisher.publish(user_ids=audience, topic="bank_sync", type="bank_sync.updated", data=resource)
