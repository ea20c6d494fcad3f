"""Syncing one connection, exactly once: /transactions/sync from the stored cursor, page
after page until has_more is false.

Each page and the cursor after it commit in one database transaction, guarded by a
compare-and-set on the stored cursor: a crash between pages loses nothing (the next run
asks for the page after the last committed cursor) and doubles nothing (a page whose
cursor is no longer the stored one is discarded). Added transactions are upserts by
Plaid's id as well, so even a page delivered twice by the provider books once.
TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION restarts from the last committed cursor.

Two runs never sync one item at once: a session advisory lock per connection, held on a
connection of its own for the run (behind a transaction-mode pooler that connection must
go direct; the cursor check keeps the result exact even if it did not)."""

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg

from chalicelib.bank_sync import connection_status, mapping, page_repo, providers, repo
from chalicelib.bank_sync.linking import link_account
from chalicelib.bank_sync.page_source import ItemAccounts, Pages
from chalicelib.bank_sync.provider import BankProvider, ProviderAccount, ProviderError, SyncPage
from chalicelib.budgets.alerts import evaluate_budget_alerts_for_user
from chalicelib.categorization.keywords import keyword_slot, merchant_key
from chalicelib.core import caching
from chalicelib.core.actor import Actor
from chalicelib.imports import repo as imports_repo
from chalicelib.imports.models import import_out
from chalicelib.infra import db
from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings
from chalicelib.live import hooks as live_hooks

ACTOR = Actor.system("schedule:bank-sync")
LOCK_CLASS = 19_019  # advisory lock namespace of bank sync (first key of the two-int form)
MAX_RESTARTS = 3
BACKOFF_BASE = timedelta(minutes=15)
BACKOFF_MAX = timedelta(hours=24)


@dataclass
class SyncReport:
    connection_id: UUID
    status: str  # completed, failed, busy, skipped
    pages: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    ignored: int = 0
    restarts: int = 0
    error_code: str | None = None
    log_id: UUID | None = None  # the run's row: its first account's, carrying the run's metadata
    account_logs: dict[UUID, UUID] = field(default_factory=dict)  # account id -> its row of this run
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


class _StaleCursor(Exception):
    """Another run committed a page since this one read the cursor."""


def _lock_key(connection_id: UUID) -> int:
    return int.from_bytes(connection_id.bytes[:4], "big", signed=True)


def sync_connection(*, connection_id: UUID, reason: str = "manual", provider: BankProvider | None = None) -> SyncReport:
    """Bring one connection's transactions up to date with the bank."""
    started = time.monotonic()
    # The lock is held by an open transaction on a connection of its own (a transaction-level
    # lock, released at its end): behind PgBouncer in transaction mode a session lock would
    # stay on a pooled server connection, a transaction keeps that connection ours.
    with db.connect() as lock_conn, lock_conn.transaction():
        got = lock_conn.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)", (LOCK_CLASS, _lock_key(connection_id))
        ).fetchone()[0]
        if not got:
            return SyncReport(connection_id, "busy")
        report = _sync_locked(connection_id, reason, provider)
    report.seconds = round(time.monotonic() - started, 3)
    logger.info(
        "bank sync finished",
        extra={"connection_id": str(connection_id), "status": report.status, "pages": report.pages,
               "added": report.added, "updated": report.updated, "deleted": report.deleted,
               "ignored": report.ignored, "restarts": report.restarts, "error_code": report.error_code,
               "seconds": report.seconds, "reason": reason,
               "rows_per_second": round((report.added + report.updated) / report.seconds) if report.seconds else None},
    )  # fmt: skip
    return report


def _sync_locked(connection_id: UUID, reason: str, provider: BankProvider | None) -> SyncReport:
    report = SyncReport(connection_id, "skipped")
    started = time.monotonic()
    provider = provider or providers.provider()
    with db.transaction() as conn:
        connection = repo.get_connection(conn, connection_id)
        if connection is None or connection["access_token_enc"] is None or connection["status"] == "revoked":
            return report
        accounts = repo.accounts_of(conn, connection_id)
        if not accounts:
            return report
        # data_sync_logs has one row per account (the seed's account_id is NOT NULL): each
        # account's row counts its own transactions; the first one's also carries the run's
        # metadata and warnings, and the others name it as their run.
        report.log_id = repo.insert_sync_log(
            conn,
            user_id=connection["user_id"],
            account_id=accounts[0]["id"],
            metadata={"bank_connection_id": str(connection_id), "reason": reason, "provider": connection["provider"],
                      "ignored_unknown_account": 0, "rounded_amounts": 0, "currency_mismatches": 0},
        )  # fmt: skip
        report.account_logs[accounts[0]["id"]] = report.log_id
        report.account_logs |= _account_logs(conn, connection, report, [a["id"] for a in accounts[1:]], reason)
        categories = _default_categories(conn)
    token = providers.open_token(connection["access_token_enc"])
    cursor = connection["sync_cursor"]
    settings = get_settings()
    item_accounts = ItemAccounts(provider, token, held={a["plaid_account_id"] for a in accounts})
    pages = Pages(provider, token, count=settings.bank_sync_page_size, prefetch=settings.bank_sync_prefetch)
    try:
        while True:
            try:
                page = pages.get(cursor)
                newcomers = item_accounts.new_in(page)
            except ProviderError as exc:
                if exc.kind == "mutation" and report.restarts < MAX_RESTARTS:
                    report.restarts += 1
                    cursor = _committed_cursor(connection_id)
                    continue
                raise
            if page.has_more:
                pages.ahead(page.next_cursor)
            try:
                done = _apply_page(connection_id, cursor, page, report, categories, newcomers)
            except _StaleCursor:
                report.restarts += 1
                if report.restarts > MAX_RESTARTS:
                    raise
                cursor = _committed_cursor(connection_id)
                continue
            item_accounts.linked(newcomers)
            report.pages += 1
            cursor = page.next_cursor
            if report.pages % 20 == 0:
                elapsed = time.monotonic() - started
                logger.info(
                    "bank sync progress",
                    extra={"connection_id": str(connection_id), "pages": report.pages,
                           "rows": report.added + report.updated, "rows_per_second": round(
                               (report.added + report.updated) / elapsed) if elapsed else None},
                )  # fmt: skip
            if done:
                break
    except ProviderError as exc:
        pages.close()
        return _failed(connection_id, report, exc)
    except Exception:
        pages.close()
        # Committed pages stay (their cursor with them); the run is recorded as failed, not left running.
        with db.transaction() as conn:
            _finish_logs(
                conn, report, connection=connection, status="failed",
                error_message="The bank sync stopped on an internal error",
                metadata={"pages": report.pages, "restarts": report.restarts},
            )  # fmt: skip
        raise
    pages.close()
    report.status = "completed"
    with db.transaction() as conn:
        _finish_logs(
            conn, report, connection=connection, status="completed", error_message=None,
            metadata={"pages": report.pages, "restarts": report.restarts},
        )  # fmt: skip
    return report


def _account_logs(conn, connection: dict, report: SyncReport, account_ids: list[UUID], reason: str) -> dict:
    metadata = {"bank_connection_id": str(connection["id"]), "reason": reason, "provider": connection["provider"],
                "sync_run": str(report.log_id)}  # fmt: skip
    return {
        account_id: repo.insert_sync_log(conn, user_id=connection["user_id"], account_id=account_id, metadata=metadata)
        for account_id in account_ids
    }


def _finish_logs(
    conn, report: SyncReport, *, connection: dict, status: str, error_message: str | None, metadata: dict
) -> None:
    """Close the run's log rows; each finished one is pushed (bank_sync.updated, as
    GET /imports?sync_type=plaid lists it) to everyone who may read the connection's accounts,
    once this transaction commits."""
    for log_id in report.account_logs.values():
        repo.finish_sync_log(
            conn, log_id=log_id, status=status, error_message=error_message,
            metadata=metadata if log_id == report.log_id else {},
        )  # fmt: skip
        row = imports_repo.get_log(conn, log_id=log_id, user_id=connection["user_id"])
        live_hooks.bank_sync_finished(
            conn, owner_id=connection["user_id"], family_id=connection["family_id"], resource=import_out(row)
        )


def _committed_cursor(connection_id: UUID) -> str | None:
    with db.transaction() as conn:
        return repo.get_connection(conn, connection_id)["sync_cursor"]


def _default_categories(conn: psycopg.Connection) -> dict[tuple[str, str | None], UUID]:
    rows = conn.execute(
        """SELECT c.id, c.name, p.name AS parent FROM categories c LEFT JOIN categories p ON p.id = c.parent_id
            WHERE c.is_default AND c.is_active"""
    ).fetchall()
    return {((r["parent"], r["name"]) if r["parent"] else (r["name"], None)): r["id"] for r in rows}


def _page_rows(page: SyncPage, accounts: dict[str, dict], categories: dict, report: SyncReport, warnings: list):
    """The page's added and modified transactions as staging rows, in our terms."""
    replaced_in_page = {t.pending_transaction_id for t in page.added if t.pending_transaction_id and not t.pending}
    rows, counts = [], {"ignored_unknown_account": 0, "rounded_amounts": 0, "currency_mismatches": 0}
    for kind, items in (("modified", page.modified), ("added", page.added)):
        for t in items:
            account = accounts.get(t.account_id)
            if account is None:
                counts["ignored_unknown_account"] += 1
                continue
            if kind == "added" and t.pending and t.transaction_id in replaced_in_page:
                continue  # its posted twin is in this very page and takes its place
            amount, rounded = mapping.our_amount(t.amount)
            if amount == 0:
                warnings.append({"transaction_id": t.transaction_id, "message": "zero amount ignored"})
                continue
            if rounded:
                counts["rounded_amounts"] += 1
                logger.warning(
                    "bank amount rounded to cents (half-even)",
                    extra={"plaid_transaction_id": t.transaction_id, "amount": str(t.amount), "rounded": str(amount)},
                )
            currency = (t.currency or account["currency"]).upper()[:3]
            if currency != account["currency"]:
                counts["currency_mismatches"] += 1
                warnings.append({"transaction_id": t.transaction_id,
                                 "message": f"currency {currency} differs from the account's {account['currency']}; "
                                            "kept as given, not converted"})  # fmt: skip
            path = mapping.category_path(t.category_primary, t.category_detailed)
            description = t.name.strip() or "(no description)"
            merchant = (t.merchant_name or "").strip()[:255] or None
            rows.append({
                "line": len(rows) + 1, "kind": kind, "plaid_id": t.transaction_id,
                "pending_plaid_id": t.pending_transaction_id, "account_id": account["id"], "amount": amount,
                "currency": currency, "description": description, "merchant": merchant, "location": t.location,
                "transaction_date": t.authorized_date or t.date, "posted_date": None if t.pending else t.date,
                "status": "pending" if t.pending else "posted",
                "plaid_category_id": categories.get(path) if path else None,
                "plaid_confidence": mapping.confidence(t.category_confidence) if path else None,
                "keyword_slot": keyword_slot(description, merchant),
                "merchant_key": merchant_key(merchant or description),
                "category_hint": None,
            })  # fmt: skip
    report.ignored += counts["ignored_unknown_account"]
    return rows, counts


def _apply_page(
    connection_id: UUID, cursor: str | None, page: SyncPage, report: SyncReport, categories,
    newcomers: list[ProviderAccount] = (),
) -> bool:  # fmt: skip
    """Write one page and its cursor in one transaction; True when it was the last page."""
    with db.transaction() as conn:
        connection = repo.get_connection(conn, connection_id, lock=True)
        if connection["sync_cursor"] != cursor:
            raise _StaleCursor()
        for account in newcomers:
            link_account(conn, user_id=connection["user_id"], connection=connection, account=account,
                         institution=connection["institution_name"])  # fmt: skip
        accounts = {a["plaid_account_id"]: a for a in repo.accounts_of(conn, connection_id)}
        account_ids = [a["id"] for a in accounts.values()]
        # Accounts linked by this page get their rows of the run (kept only if the page commits).
        new_logs = _account_logs(
            conn, connection, report, [i for i in account_ids if i not in report.account_logs], "linked during a sync"
        )
        logs = report.account_logs | new_logs
        warnings: list[dict[str, Any]] = []
        rows, counts = _page_rows(page, accounts, categories, report, warnings)
        removed = [r.transaction_id for r in page.removed]
        page_repo.lock_accounts(conn, account_ids)
        written = page_repo.PageWrite(0, 0, 0, 0)
        if rows or removed:
            held = page_repo.stage(conn, rows, account_ids=account_ids)
            if rows:
                page_repo.categorize(conn, user_id=connection["user_id"], family_id=connection["family_id"])
            written = page_repo.write(
                conn, user_id=connection["user_id"], account_ids=account_ids, removed=removed, held=held
            )
        changes: dict[str, Any] = {"sync_cursor": page.next_cursor}
        metadata = {**counts, "replaced_pending": written.replaced_pending}
        if not page.has_more:
            metadata["balance_adjustments"] = _anchor_balances(conn, accounts, page)
            changes |= {"last_sync_at": datetime.now(UTC), "sync_failures": 0, "next_sync_after": None}
            repo.set_last_sync(conn, connection_id=connection_id)
        repo.update_connection(conn, connection_id, changes)
        if connection["status"] in ("login_required", "error") and not page.has_more:
            connection_status.set_status(conn, connection, actor=ACTOR, status="active", error_code=None)
        repo.add_sync_counts(conn, log_id=report.log_id, added=0, updated=0, deleted=0, metadata=metadata)
        for account_id, (added, updated, deleted) in written.by_account.items():
            repo.add_sync_counts(
                conn, log_id=logs[account_id], added=added, updated=updated, deleted=deleted, metadata={}
            )
        repo.add_sync_errors(conn, log_id=report.log_id, errors=warnings)
        changed = bool(written.inserted or written.updated or written.deleted)
        if changed:
            caching.invalidate_visible_to(conn, owner_id=connection["user_id"], family_id=connection["family_id"])
        if not page.has_more and (changed or report.added or report.updated or report.deleted):
            # Budgets move with the bank as with an import, decided once the run's last page is in
            # (in its transaction; alerts are once-only, so a run resumed after a crash decides them then).
            evaluate_budget_alerts_for_user(conn, user_id=connection["user_id"])
    report.account_logs |= new_logs
    report.added += written.inserted
    report.updated += written.updated
    report.deleted += written.deleted
    return not page.has_more


def _anchor_balances(conn: psycopg.Connection, accounts: dict[str, dict], page: SyncPage) -> dict[str, str]:
    """Our balance equals the bank's current balance once synced: the opening balance
    takes up what the synced history does not explain (what happened before it)."""
    adjustments = {}
    for bank_account in page.accounts:
        account = accounts.get(bank_account.account_id)
        if account is None or bank_account.current is None:
            continue
        adjustment = repo.anchor_balance(
            conn, account_id=account["id"], balance=mapping.our_balance(bank_account.type, bank_account.current)
        )
        if adjustment:
            adjustments[str(account["id"])] = str(adjustment)
    return adjustments


def _failed(connection_id: UUID, report: SyncReport, exc: ProviderError) -> SyncReport:
    report.status, report.error_code = "failed", exc.code
    with db.transaction() as conn:
        connection = repo.get_connection(conn, connection_id, lock=True)
        if exc.kind == "login_required":
            connection_status.set_status(conn, connection, actor=ACTOR, status="login_required", error_code=exc.code)
        elif exc.kind == "revoked":
            connection_status.set_status(
                conn, connection, actor=ACTOR, status="revoked", error_code=exc.code, wipe_token=True
            )
        elif exc.kind == "rate_limited":
            failures = connection["sync_failures"] + 1
            wait = max(timedelta(seconds=exc.retry_after), min(BACKOFF_BASE * 2 ** (failures - 1), BACKOFF_MAX))
            repo.update_connection(
                conn, connection_id, {"sync_failures": failures, "next_sync_after": datetime.now(UTC) + wait}
            )
        else:
            failures = connection["sync_failures"] + 1
            repo.update_connection(conn, connection_id, {"sync_failures": failures})
            if failures >= 3:  # one blip is not worth a notification; a streak is
                connection_status.set_status(conn, connection, actor=ACTOR, status="error", error_code=exc.code)
        _finish_logs(
            conn, report, connection=connection, status="failed",
            error_message=f"The bank sync stopped: {exc.code}",
            metadata={"pages": report.pages, "restarts": report.restarts, "error_code": exc.code},
        )  # fmt: skip
    return report
