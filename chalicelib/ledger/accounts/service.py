"""Account use cases (API.md "Accounts").

Personal accounts belong to their creator; family accounts are read by every member
and managed (created, changed, deleted) by admins and the owner. The account number
is stored encrypted (AES-256-GCM, context "accounts.account_number") with a keyed hash
and its last four characters beside it; only "****1234" ever leaves.

DELETE removes an account that never had a transaction; one with transactions (live
or archived) is deactivated instead (is_active false, hidden from GET /accounts unless
include_inactive=true, refuses new transactions) so no money history disappears."""

from typing import Any
from uuid import UUID

import psycopg

from chalicelib.audit.changes import record_change
from chalicelib.core import paging
from chalicelib.core.actor import Actor
from chalicelib.errors import BalanceBelowZero, Conflict, NotFound, ValidationFailed
from chalicelib.families.access import MANAGE, READ, Access, load_access
from chalicelib.infra import crypto, db, outbox
from chalicelib.ledger.accounts import repo
from chalicelib.ledger.accounts.models import AccountCreate, AccountPatch, AccountQuery, to_out

NUMBER_CONTEXT = "accounts.account_number"


def _number_columns(number: str | None) -> dict[str, Any]:
    if number is None:
        return {"account_number_enc": None, "account_number_hash": None, "account_number_last4": None}
    return {
        "account_number_enc": crypto.encrypt(number, context=NUMBER_CONTEXT),
        "account_number_hash": crypto.lookup_hash(number),
        "account_number_last4": number[-4:],
    }


def load_authorized(
    conn: psycopg.Connection, access: Access, account_id: UUID, *, need=READ, lock: str | None = None
) -> dict[str, Any]:
    """The account if the caller may see it (404 otherwise) and `need` it (403 otherwise)."""
    row = repo.get(conn, account_id, lock=lock)
    if row is None:
        raise NotFound("Account not found")
    access.authorize(owner_id=row["user_id"], family_id=row["family_id"], need=need, what="Account")
    return row


def list_accounts(*, user_id: UUID, query: AccountQuery) -> tuple[list[dict[str, Any]], str | None]:
    """Accounts the caller can see, oldest first, keyset-paginated."""
    after = paging.decode_created(query.cursor)
    with db.transaction() as conn:
        access = load_access(conn, user_id)
        if query.family_id is not None:
            access.require_family(query.family_id, READ)
        rows = repo.list_visible(
            conn,
            visible=access.visible("a"),
            family_id=query.family_id,
            include_inactive=query.include_inactive,
            after=after,
            limit=query.limit + 1,
        )
    return paging.page(rows, query.limit)


def get_account(*, user_id: UUID, account_id: UUID) -> dict[str, Any]:
    """One account the caller can see."""
    with db.transaction() as conn:
        return load_authorized(conn, load_access(conn, user_id), account_id)


def create_account(*, actor: Actor, data: AccountCreate) -> dict[str, Any]:
    """Open a personal account, or a family account (family admin or owner)."""
    with db.transaction() as conn:
        if data.family_id is not None:
            load_access(conn, actor.user_id).require_family(data.family_id, MANAGE)
        values = data.model_dump(exclude={"account_number"})
        values.update(_number_columns(data.account_number), user_id=actor.user_id)
        try:
            row = repo.insert(conn, values)
        except BalanceBelowZero:
            # At creation it is the opening balance that is wrong: the field, not a conflict.
            raise ValidationFailed.field("opening_balance", "may not be negative for this account type") from None
        record_change(
            conn,
            actor=actor,
            action="account.create",
            resource_type="account",
            resource_id=row["id"],
            before=None,
            after=to_out(row).model_dump(mode="json"),
            owners=[(row["user_id"], row["family_id"])],
        )
        return row


def update_account(*, actor: Actor, account_id: UUID, data: AccountPatch) -> dict[str, Any]:
    """Change an account (its owner, or a family admin); family_id moves it between families."""
    changes = data.model_dump(exclude_unset=True)
    with db.transaction() as conn:
        access = load_access(conn, actor.user_id)
        before = load_authorized(conn, access, account_id, need=MANAGE, lock="update")
        if "account_number" in changes:
            changes.update(_number_columns(changes.pop("account_number")))
        moved: list[UUID] = []
        if "family_id" in changes and changes["family_id"] != before["family_id"]:
            moved = _move(conn, access, before, changes, actor=actor)
        else:
            changes.pop("family_id", None)
        if changes.get("currency", before["currency"]) != before["currency"] and repo.has_transactions(
            conn, account_id
        ):
            raise Conflict("The currency of an account with transactions cannot change")
        row = repo.update(conn, account_id, changes) if changes else before
        outbox.record_changes(conn, aggregate_type="transaction", ids=moved)
        record_change(
            conn,
            actor=actor,
            action="account.update",
            resource_type="account",
            resource_id=account_id,
            before=to_out(before).model_dump(mode="json"),
            after=to_out(row).model_dump(mode="json"),
            owners=[(before["user_id"], before["family_id"]), (row["user_id"], row["family_id"])],
        )
        return row


def _move(conn, access: Access, before: dict[str, Any], changes: dict[str, Any], *, actor: Actor) -> list[UUID]:
    """Into a family: the caller manages it there too. Out of a family (family_id null): the
    account and its transactions become the caller's personal ones."""
    target = changes["family_id"]
    if target is not None:
        access.require_family(target, MANAGE)
        return repo.move_transactions(conn, before["id"], family_id=target, user_id=None)
    changes["user_id"] = actor.user_id
    return repo.move_transactions(conn, before["id"], family_id=None, user_id=actor.user_id)


def delete_account(*, actor: Actor, account_id: UUID) -> None:
    """Delete an unused account; deactivate one that has transactions."""
    with db.transaction() as conn:
        # FOR UPDATE also waits out (and then blocks) transaction inserts, whose foreign
        # key check takes FOR KEY SHARE: "has no transactions" stays true until commit.
        before = load_authorized(conn, load_access(conn, actor.user_id), account_id, need=MANAGE)
        conn.execute("SELECT 1 FROM accounts WHERE id = %s FOR UPDATE", (account_id,))
        if repo.has_transactions(conn, account_id):
            after = repo.update(conn, account_id, {"is_active": False})
            action, after_data = "account.deactivate", to_out(after).model_dump(mode="json")
        else:
            repo.delete(conn, account_id)
            action, after_data = "account.delete", None
        record_change(
            conn,
            actor=actor,
            action=action,
            resource_type="account",
            resource_id=account_id,
            before=to_out(before).model_dump(mode="json"),
            after=after_data,
            owners=[(before["user_id"], before["family_id"])],
        )
