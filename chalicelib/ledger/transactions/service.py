"""Transaction use cases (API.md "Transactions").

Who: a personal account's owner, or a family account's members (member and above
write, viewers read). A transaction's family_id is always its account's; on a personal
account it is owned by the account's owner. Balances are the database's job (statement
triggers); every write here first locks the accounts it touches, in id order, so
concurrent writers queue instead of deadlocking.

Status may change in any direction (API.md): a cancelled transaction set back to
pending or posted is a user undoing a mistake, and counts in the balance again (the
balance trigger counts every row that is not cancelled, whatever it was before).
categorization_source: a category chosen by a person is "manual"; a PATCH that sets
category_id on an "ml" or "plaid" categorization records "user_correction" (and drops
the confidence)."""

from typing import Any
from uuid import UUID

import psycopg

from chalicelib.audit.changes import record_change
from chalicelib.budgets.alerts import evaluate_budget_alerts_for_user
from chalicelib.categorization.engine import suggest_category
from chalicelib.core.actor import Actor
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.families.access import READ, WRITE_TRANSACTIONS, Access, load_access
from chalicelib.infra import background, db, outbox, storage
from chalicelib.infra.logging import logger
from chalicelib.ledger.accounts import repo as accounts_repo
from chalicelib.ledger.accounts.service import load_authorized
from chalicelib.ledger.categories.service import visible_category
from chalicelib.ledger.transactions import repo
from chalicelib.ledger.transactions.models import TransactionCreate, TransactionOut, TransactionPatch


def _field_not_found(what: str, field: str) -> NotFound:
    return NotFound(f"{what} not found", details=[{"field": field, "message": "not found"}])


def _account_for_write(conn: psycopg.Connection, access: Access, account_id: UUID, field: str) -> dict[str, Any]:
    """The account, locked for the balance update, if the caller may book on it."""
    account = accounts_repo.get(conn, account_id)
    if account is None or not access.can_see(owner_id=account["user_id"], family_id=account["family_id"]):
        raise _field_not_found("Account", field)
    access.authorize(
        owner_id=account["user_id"], family_id=account["family_id"], need=WRITE_TRANSACTIONS, what="Account"
    )
    if not account["is_active"]:
        raise Conflict("This account is inactive; reactivate it to book transactions")
    return account


def _check_category(conn: psycopg.Connection, access: Access, category_id: UUID, account: dict[str, Any]) -> None:
    """The category must be visible, and on a family account a default or that family's own
    (other members could not see a personal one)."""
    category = visible_category(conn, access, category_id)
    if category is None:
        raise _field_not_found("Category", "category_id")
    if account["family_id"] is not None and not (
        category["is_default"] or category["family_id"] == account["family_id"]
    ):
        raise ValidationFailed.field("category_id", "a family account takes default or family categories only")


def _category_fits(conn: psycopg.Connection, access: Access, category_id: UUID, account: dict[str, Any]) -> bool:
    """The same rule for a suggested category as for a chosen one (a misfit is left out, not an error)."""
    try:
        _check_category(conn, access, category_id, account)
    except (NotFound, ValidationFailed):
        return False
    return True


def _check_consistency(row: dict[str, Any], account: dict[str, Any]) -> None:
    if row["currency"] != account["currency"]:
        raise ValidationFailed.field("currency", f"must be the account's currency ({account['currency']})")
    if row.get("posted_date") is not None and row["posted_date"] < row["transaction_date"]:
        raise ValidationFailed.field("posted_date", "must not be before transaction_date")


def _alert_after_commit(user_id: UUID) -> None:
    """A write that crosses a budget threshold alerts right after it commits, off the
    request path (the pass reads pg_timezone_names, tens of ms); the hourly budget-alerts
    schedule stays the net, and the dedupe key makes either one alert once."""

    def evaluate() -> None:
        with db.transaction() as conn:
            evaluate_budget_alerts_for_user(conn, user_id=user_id)

    background.after_commit(evaluate)


def get_transaction(*, user_id: UUID, transaction_id: UUID) -> dict[str, Any]:
    """One transaction the caller can see (archived ones too, read-only)."""
    with db.transaction() as conn:
        row = repo.get(conn, transaction_id) or repo.get_archived(conn, transaction_id)
        if row is None:
            raise NotFound("Transaction not found")
        load_access(conn, user_id).authorize(
            owner_id=row["user_id"], family_id=row["family_id"], need=READ, what="Transaction"
        )
        return row


def create_transaction(*, actor: Actor, data: TransactionCreate) -> dict[str, Any]:
    """Book a transaction on an account the caller may write to."""
    with db.transaction() as conn:
        access = load_access(conn, actor.user_id)
        if data.family_id is not None and access.role_in(data.family_id) is None:
            raise _field_not_found("Family", "family_id")
        account = _account_for_write(conn, access, data.account_id, "account_id")
        if data.category_id is not None:
            _check_category(conn, access, data.category_id, account)
        row = data.model_dump(exclude={"family_id"})
        row.update(
            user_id=account["user_id"] if account["family_id"] is None else actor.user_id,
            family_id=account["family_id"],
            currency=data.currency or account["currency"],
            categorization_source="manual",
            categorization_confidence=None,
        )
        _check_consistency(row, account)
        if row["category_id"] is None:
            # The same engine as imports: the caller's rules, then what they taught it, then keywords.
            suggestion = suggest_category(
                conn,
                user_id=actor.user_id,
                family_id=account["family_id"],
                description=row["description"],
                merchant=row["merchant"],
            )
            if suggestion is not None and _category_fits(conn, access, suggestion.category_id, account):
                row.update(
                    category_id=suggestion.category_id,
                    categorization_source=suggestion.source,
                    categorization_confidence=suggestion.confidence,
                )
        accounts_repo.lock_in_order(conn, [account["id"]])
        created = repo.insert(conn, row)
        outbox.record_changes(conn, aggregate_type="transaction", ids=[created["id"]])
        record_change(
            conn,
            actor=actor,
            action="transaction.create",
            resource_type="transaction",
            resource_id=created["id"],
            before=None,
            after=TransactionOut(**created).model_dump(mode="json"),
            owners=[(created["user_id"], created["family_id"])],
        )
        _alert_after_commit(actor.user_id)
        return created


def update_transaction(*, actor: Actor, transaction_id: UUID, data: TransactionPatch) -> dict[str, Any]:
    """Change a transaction: fields, status, category, date, or account (balances follow)."""
    changes = data.model_dump(exclude_unset=True)
    with db.transaction() as conn:
        access = load_access(conn, actor.user_id)
        before = repo.get(conn, transaction_id, for_update=True)
        if before is None:
            raise NotFound("Transaction not found")
        access.authorize(
            owner_id=before["user_id"], family_id=before["family_id"], need=WRITE_TRANSACTIONS, what="Transaction"
        )
        account = load_authorized(conn, access, before["account_id"], need=READ)
        if changes.get("account_id", before["account_id"]) != before["account_id"]:
            account = _account_for_write(conn, access, changes["account_id"], "account_id")
            changes["family_id"] = account["family_id"]
            if account["family_id"] is None:
                changes["user_id"] = account["user_id"]
        category_id = changes.get("category_id", before["category_id"])
        if category_id is not None and ("category_id" in changes or "account_id" in changes):
            _check_category(conn, access, category_id, account)
        if "category_id" in changes:
            _apply_categorization_source(before, changes)
        _check_consistency({**before, **changes}, account)
        accounts_repo.lock_in_order(conn, [before["account_id"], account["id"]])
        after = repo.update(conn, transaction_id, before["transaction_date"], changes) if changes else before
        outbox.record_changes(conn, aggregate_type="transaction", ids=[transaction_id])
        record_change(
            conn,
            actor=actor,
            action="transaction.update",
            resource_type="transaction",
            resource_id=transaction_id,
            before=TransactionOut(**before).model_dump(mode="json"),
            after=TransactionOut(**after).model_dump(mode="json"),
            owners=[(before["user_id"], before["family_id"]), (after["user_id"], after["family_id"])],
        )
        _alert_after_commit(actor.user_id)
        return after


def _apply_categorization_source(before: dict[str, Any], changes: dict[str, Any]) -> None:
    if before["categorization_source"] in ("ml", "plaid", "user_correction"):
        changes["categorization_source"] = "user_correction"
    else:
        changes["categorization_source"] = "manual"
    changes["categorization_confidence"] = None


def delete_transaction(*, actor: Actor, transaction_id: UUID) -> None:
    """Delete a transaction (its receipt object goes too)."""
    with db.transaction() as conn:
        access = load_access(conn, actor.user_id)
        before = repo.get(conn, transaction_id, for_update=True)
        if before is None:
            raise NotFound("Transaction not found")
        access.authorize(
            owner_id=before["user_id"], family_id=before["family_id"], need=WRITE_TRANSACTIONS, what="Transaction"
        )
        accounts_repo.lock_in_order(conn, [before["account_id"]])
        repo.delete(conn, transaction_id, before["transaction_date"])
        outbox.record_changes(conn, aggregate_type="transaction", ids=[transaction_id], operation="delete")
        record_change(
            conn,
            actor=actor,
            action="transaction.delete",
            resource_type="transaction",
            resource_id=transaction_id,
            before=TransactionOut(**before).model_dump(mode="json"),
            after=None,
            owners=[(before["user_id"], before["family_id"])],
        )
        if before["receipt_url"]:
            db.after_commit(lambda: remove_object(before["receipt_url"]))


def remove_object(key: str) -> None:
    """Best effort: a receipt left behind is an orphan object, never a wrong answer."""
    try:
        storage.delete(key)
    except storage.StorageError as exc:
        logger.warning("receipt object not deleted", extra={"key": key, "error": type(exc).__name__})
