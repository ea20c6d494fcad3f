"""Erasure of a person (DELETE /users/me): their personal data goes, what they shared with
a family stays with the family, the audit trail stays (seven years) without personal data.

Exactly what happens, in one database transaction (README "Retention, partitions,
backups and erasure" has the table and the reasons):
- families they own pass to the next owner (admin before member before viewer, then the
  longest-standing); a family of which they are the only member is deleted with its data;
- their memberships end; their own (non-family) accounts, transactions (archived too),
  budgets, goals, categories, rules, and all their notifications, imports, exports, stored
  API replies, sessions (revoked, then deleted), one-time tokens and recovery codes go;
- tables added later that reference users are found in the catalogue: rows with ON DELETE
  CASCADE are deleted, SET NULL links are cleared;
- audit rows by or about them stay, with personal values in resource_data replaced and
  ip_address/user_agent cleared;
- the users row stays as a tombstone (status 'deleted', deleted_at, no personal data):
  audit rows and shared family rows point at it;
- their objects under imports/, exports/ and attachments/{user_id}/ are deleted last, still
  inside the transaction: if storage fails, nothing is committed and the request can be
  repeated; once committed, nothing personal is left behind."""

from typing import Any
from uuid import UUID

from chalicelib.audit.service import record_audit
from chalicelib.auth.service import confirm_identity
from chalicelib.auth.sessions import forget_sessions
from chalicelib.core.actor import Actor
from chalicelib.core.caching import invalidate_users
from chalicelib.erasure import repo
from chalicelib.erasure.scrub import scrub
from chalicelib.errors import NotFound
from chalicelib.infra import db, storage
from chalicelib.infra.logging import logger
from chalicelib.infra.outbox import record_changes

STORAGE_PREFIXES = ("imports", "exports", "attachments")


def _families(conn, user_id: UUID, summary: dict[str, Any]) -> tuple[set[UUID], list[UUID], list[UUID]]:
    """Hand over or delete the families the user owns; who must see fresh data afterwards."""
    audience: set[UUID] = set()
    gone_transactions: list[UUID] = []
    gone_categories: list[UUID] = []
    for family in repo.memberships(conn, user_id):
        audience.update(repo.family_member_ids(conn, family["id"]))
        if family["owner_id"] != user_id and family["role"] != "owner":
            continue
        heir = repo.successor(conn, family["id"], user_id)
        if heir is None:
            transactions, categories = repo.delete_family(conn, family["id"])
            gone_transactions += transactions
            gone_categories += categories
            summary["families_deleted"] += 1
        else:
            repo.hand_over(conn, family["id"], heir)
            summary["families_handed_over"] += 1
    return audience, gone_transactions, gone_categories


def erase_me(*, actor: Actor, password: str | None, totp_code: str | None) -> None:
    """Erase the caller's personal data; shared family data and the masked audit trail stay."""
    user_id = actor.user_id
    # Irreversible: a stolen access token alone must not be enough (issue 16).
    confirm_identity(actor=actor, password=password, totp_code=totp_code, purpose="user.erase")
    summary: dict[str, Any] = {"families_handed_over": 0, "families_deleted": 0}
    with db.transaction() as conn:
        user = repo.lock_user(conn, user_id)
        if user is None or user["status"] == "deleted":
            raise NotFound("User not found")
        audience, gone_transactions, gone_categories = _families(conn, user_id, summary)
        personal = repo.erase_personal_rows(conn, user_id)
        gone_transactions += personal.pop("transaction_ids")
        gone_categories += personal.pop("category_ids")
        record_changes(conn, aggregate_type="transaction", ids=gone_transactions, operation="delete")
        record_changes(conn, aggregate_type="category", ids=gone_categories, operation="delete")
        record_changes(conn, aggregate_type="transaction", ids=repo.clear_family_receipts(conn, user_id))
        sessions = repo.revoke_and_delete_sessions(conn, user_id)
        swept = {}
        for ref in repo.other_user_references(conn):
            if ref["table_name"] not in repo.HANDLED:
                swept[f"{ref['table_name']}.{ref['column_name']}"] = repo.sweep_reference(
                    conn,
                    table=ref["table_name"],
                    column=ref["column_name"],
                    on_delete=ref["on_delete"],
                    user_id=user_id,
                )
        masked = [(row["id"], scrub(row["resource_data"], user)) for row in repo.audit_rows(conn, user_id)]
        summary["audit_rows_masked"] = repo.mask_audit_rows(conn, masked)
        repo.tombstone(conn, user_id)
        summary.update(
            transactions_deleted=len(gone_transactions),
            categories_deleted=len(gone_categories),
            sessions_deleted=len(sessions),
            rows_deleted=personal,
            other_tables=swept,
        )
        summary["objects_deleted"] = sum(storage.delete_prefix(f"{p}/{user_id}/") for p in STORAGE_PREFIXES)
        # Not the request's actor: its IP address and user agent are this person's data.
        record_audit(
            conn,
            actor=Actor.system("erasure"),
            action="user.erased",
            resource_type="user",
            resource_id=user_id,
            user_id=user_id,
            data=summary,
        )
        forget_sessions(*sessions)
        invalidate_users(audience | {user_id})
    logger.info("user erased", extra={"user_id": str(user_id), "summary": summary})
