"""Use cases of /bank-connections: link, list, read, remove, repair, sync on demand.

A connection belongs to its creator or, with family_id, to the family (created and
managed by its admins and owner, read by every member) exactly as accounts do; its
linked accounts carry the same owner."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from chalicelib.audit.service import record_audit
from chalicelib.bank_sync import mapping, providers, repo
from chalicelib.bank_sync.linking import link_account
from chalicelib.bank_sync.models import BankConnection, LinkTokenOut, SyncAccepted
from chalicelib.bank_sync.provider import BankProvider, ProviderError, ProviderItem
from chalicelib.bank_sync.webhooks import request_sync
from chalicelib.core import caching, paging
from chalicelib.core.actor import Actor
from chalicelib.errors import Conflict, DomainError, NotFound, RateLimited, ServiceUnavailable, ValidationFailed
from chalicelib.families.access import MANAGE, READ, WRITE_TRANSACTIONS, Access, load_access
from chalicelib.infra import db
from chalicelib.infra.logging import logger


class BankProviderFailed(DomainError):
    status = 502
    code = "bank_provider_error"


def provider_failure(exc: ProviderError) -> DomainError:
    """A provider error as the contract's error: Plaid's code in details, never its text."""
    details = [{"field": "provider", "message": exc.code}]
    if exc.kind == "invalid_public_token":
        return ValidationFailed.field("public_token", "is unknown, expired or was already used")
    if exc.kind == "login_required":
        return Conflict("The bank needs you to sign in again (ask for an update link token)", code="login_required")
    if exc.kind == "revoked":
        return Conflict("The bank connection is no longer authorized", code="bank_connection_revoked")
    if exc.kind == "rate_limited":
        return RateLimited("The bank provider asks us to slow down", retry_after=exc.retry_after or 60)
    if exc.kind == "unavailable":
        return ServiceUnavailable("The bank provider is unavailable; try again", code="bank_provider_unavailable")
    return BankProviderFailed("The bank provider refused the request", details=details)


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ProviderError as exc:
        raise provider_failure(exc) from None


def _load(conn, access: Access, connection_id: UUID, *, need=READ, lock: bool = False) -> dict[str, Any]:
    row = repo.get_connection(conn, connection_id, lock=lock)
    if row is None:
        raise NotFound("Bank connection not found")
    access.authorize(owner_id=row["user_id"], family_id=row["family_id"], need=need, what="Bank connection")
    return row


def create_link_token(*, actor: Actor, family_id: UUID | None) -> LinkTokenOut:
    """A Plaid Link token for the caller (transactions, their language, our webhook)."""
    provider = providers.provider()
    with db.transaction() as conn:
        if family_id is not None:
            load_access(conn, actor.user_id).require_family(family_id, MANAGE)
        locale = repo.user_locale(conn, actor.user_id)
    token = _call(provider.create_link_token, client_user_id=str(actor.user_id), language=mapping.language(locale))
    return LinkTokenOut(link_token=token.link_token, expiration=token.expiration)


def connect(*, actor: Actor, public_token: str, family_id: UUID | None) -> BankConnection:
    """Exchange Link's public token, keep the access token sealed, link the item's accounts."""
    provider = providers.provider()
    with db.transaction() as conn:
        if family_id is not None:
            load_access(conn, actor.user_id).require_family(family_id, MANAGE)
    exchanged = _call(provider.exchange_public_token, public_token)
    try:
        item = _call(provider.get_item, exchanged.access_token)
        out = _record_connection(actor=actor, family_id=family_id, access_token=exchanged.access_token, item=item)
    except Conflict:
        raise  # the item is held by another connection: removing it would cut that one off
    except Exception:
        # Nothing of ours holds the token now: remove the item rather than leave it billed and orphaned.
        _forget_item(provider, exchanged.access_token)
        raise
    db.after_commit(lambda: _request_sync_quietly(out.row["id"], "linked"))
    return out


def _forget_item(provider: BankProvider, access_token: str) -> None:
    try:
        provider.remove_item(access_token)
    except ProviderError as exc:
        logger.warning("orphaned bank item not removed", extra={"error_code": exc.code})


def _request_sync_quietly(connection_id: UUID, reason: str) -> None:
    try:
        request_sync(connection_id=connection_id, reason=reason)
    except DomainError:
        logger.warning("first bank sync not requested; the schedule will run it", extra={"id": str(connection_id)})


def _record_connection(
    *, actor: Actor, family_id: UUID | None, access_token: str, item: ProviderItem
) -> BankConnection:
    with db.transaction() as conn:
        if family_id is not None:
            load_access(conn, actor.user_id).require_family(family_id, MANAGE)
        existing = repo.find_by_item(conn, provider="plaid", item_id=item.item_id)
        if existing is not None:
            raise Conflict("This bank item is already connected")
        row = repo.insert_connection(
            conn,
            {
                "user_id": actor.user_id,
                "family_id": family_id,
                "provider": "plaid",
                "item_id": item.item_id,
                "access_token_enc": providers.seal_token(access_token),
                "institution_id": item.institution_id,
                "institution_name": item.institution_name,
            },
        )
        for account in item.accounts:
            link_account(
                conn, user_id=actor.user_id, connection=row, account=account, institution=item.institution_name
            )
        accounts = repo.linked_accounts(conn, [row["id"]])
        out = BankConnection(row=row, accounts=accounts)
        record_audit(
            conn,
            actor=actor,
            action="bank_connection.create",
            resource_type="bank_connection",
            resource_id=row["id"],
            data={"institution": item.institution_name, "family_id": family_id, "accounts": len(accounts)},
        )
        caching.invalidate_visible_to(conn, owner_id=actor.user_id, family_id=family_id)
        return out


def list_connections(*, user_id: UUID, limit: int, cursor: str | None) -> tuple[list[BankConnection], str | None]:
    """Bank connections the caller can see, oldest first."""
    providers.require_configured()
    after = paging.decode_created(cursor or None)
    with db.transaction() as conn:
        access = load_access(conn, user_id)
        rows = repo.list_visible(conn, visible=access.visible("c"), limit=limit + 1, after=after)
        page, next_cursor = paging.page(rows, limit)
        accounts = repo.linked_accounts(conn, [r["id"] for r in page])
    by_connection: dict[UUID, list] = {}
    for a in accounts:
        by_connection.setdefault(a["bank_connection_id"], []).append(a)
    return [BankConnection(row=r, accounts=by_connection.get(r["id"], [])) for r in page], next_cursor


def get_connection(*, user_id: UUID, connection_id: UUID) -> BankConnection:
    """One bank connection with its accounts."""
    providers.require_configured()
    with db.transaction() as conn:
        row = _load(conn, load_access(conn, user_id), connection_id)
        return BankConnection(row=row, accounts=repo.linked_accounts(conn, [row["id"]]))


def delete_connection(*, actor: Actor, connection_id: UUID) -> None:
    """Remove the item at the bank provider and wipe its token; accounts and history stay."""
    provider = providers.provider()
    with db.transaction() as conn:
        row = _load(conn, load_access(conn, actor.user_id), connection_id, need=MANAGE)
    if row["access_token_enc"] is not None:
        try:
            provider.remove_item(providers.open_token(row["access_token_enc"]))
        except ProviderError as exc:
            if exc.kind != "revoked":  # already gone at Plaid: removing it here is all that is left
                raise provider_failure(exc) from None
    with db.transaction() as conn:
        row = _load(conn, load_access(conn, actor.user_id), connection_id, need=MANAGE, lock=True)
        repo.update_connection(
            conn,
            connection_id,
            {"access_token_enc": None, "status": "revoked", "error_code": None, "removed_at": datetime.now(UTC)},
        )
        record_audit(
            conn, actor=actor, action="bank_connection.delete", resource_type="bank_connection",
            resource_id=connection_id, data={"institution": row["institution_name"]},
        )  # fmt: skip
        caching.invalidate_visible_to(conn, owner_id=row["user_id"], family_id=row["family_id"])


def update_link_token(*, actor: Actor, connection_id: UUID) -> LinkTokenOut:
    """A Link token in update mode, to repair a connection whose login lapsed."""
    provider = providers.provider()
    with db.transaction() as conn:
        row = _load(conn, load_access(conn, actor.user_id), connection_id, need=MANAGE)
        locale = repo.user_locale(conn, actor.user_id)
    if row["access_token_enc"] is None:
        raise Conflict("This bank connection was removed; link the bank again", code="bank_connection_revoked")
    token = _call(
        provider.create_link_token,
        client_user_id=str(actor.user_id),
        language=mapping.language(locale),
        access_token=providers.open_token(row["access_token_enc"]),
    )
    return LinkTokenOut(link_token=token.link_token, expiration=token.expiration)


def request_sync_now(*, actor: Actor, connection_id: UUID) -> SyncAccepted:
    """Ask for a sync of this connection in the background."""
    providers.require_configured()
    with db.transaction() as conn:
        row = _load(conn, load_access(conn, actor.user_id), connection_id, need=WRITE_TRANSACTIONS)
    if row["access_token_enc"] is None:
        raise Conflict("This bank connection was removed; link the bank again", code="bank_connection_revoked")
    request_sync(connection_id=connection_id, reason="requested")
    return SyncAccepted(id=connection_id, status="sync_requested", requested_at=datetime.now(UTC))
