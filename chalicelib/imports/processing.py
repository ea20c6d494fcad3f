"""The S3-triggered use case: a file that landed under imports/{user_id}/{account_id}/...
becomes transactions of that account, exactly once, all or nothing.

Exactly once: the object's bucket + key + eTag is claimed in `processed_events` (unique
key) inside the same database transaction that writes the rows and finishes the import
record. A second delivery, also a concurrent one, waits on that key and then finds it
taken; if the first attempt crashed, its claim rolled back with its rows and the retry
does the work. Powertools' idempotency utility was not used: its record lives outside
PostgreSQL (DynamoDB or Redis, and Redis is never the only copy of anything here), so a
crash between our commit and its "completed" mark would leave the two disagreeing.

Poison input (a broken file, a key that names no writable account) is recorded as a
failed import in that same claimed transaction, so it is never retried; only transient
failures (database or bucket unreachable) raise and are delivered again.
"""

import re
from dataclasses import dataclass
from uuid import UUID

import psycopg

from chalicelib.audit.service import record_audit
from chalicelib.budgets.alerts import evaluate_budget_alerts_for_user
from chalicelib.families.access import WRITE_TRANSACTIONS, load_access
from chalicelib.imports import repo, source
from chalicelib.imports.models import import_out
from chalicelib.imports.rejections import ImportRejected
from chalicelib.imports.staging import RowSpool
from chalicelib.imports.statement import StatementRow
from chalicelib.imports.statement_readers import read_statement
from chalicelib.infra import db, invalidation
from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings
from chalicelib.live import hooks as live_hooks
from chalicelib.notifications.service import create_notification
from chalicelib.search.outbox import record_changes

IMPORT_STATEMENT_TIMEOUT_MS = 600_000
_KEY = re.compile(r"^imports/([^/]+)/([^/]+)/(.+)$")
NOT_WRITABLE = "Account not found: a file under imports/{user_id}/{account_id}/ imports only into an account you may add transactions to"  # noqa: E501


@dataclass(frozen=True)
class ImportOutcome:
    status: str  # completed, failed, duplicate_delivery, ignored
    import_id: UUID | None = None
    added: int = 0
    duplicates: int = 0


@dataclass
class _Target:
    user_id: UUID
    account_id: UUID | None
    account_ref: str
    log_id: UUID | None
    account: dict | None = None
    refusal: str | None = None


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


def _target(key: str) -> _Target | None:
    match = _KEY.match(key)
    if not match or _uuid(match[1]) is None:
        return None
    rest = match[3].split("/", 1)
    return _Target(
        user_id=_uuid(match[1]),
        account_id=_uuid(match[2]),
        account_ref=match[2],
        log_id=_uuid(rest[0]) if len(rest) == 2 else None,
    )


def _check_access(conn: psycopg.Connection, target: _Target) -> None:
    target.account = repo.find_account(conn, target.account_id) if target.account_id else None
    target.refusal = None
    access = load_access(conn, target.user_id)
    account = target.account
    if account is None or not access.can_see(owner_id=account["user_id"], family_id=account["family_id"]):
        target.account = None
        target.refusal = NOT_WRITABLE
        return
    if account["family_id"] is not None:
        role = access.role_in(account["family_id"])
        if role < WRITE_TRANSACTIONS:
            target.refusal = f"Your role in this family ({role.name}) does not allow importing into this account"


def import_object(*, bucket: str, key: str, etag: str | None, size: int | None) -> ImportOutcome:
    """Import one object created under imports/ (called by the S3 handler)."""
    event_key = f"s3://{bucket}/{key}#{(etag or '').strip(chr(34))}"
    target = _target(key)
    if target is None:
        logger.warning("import object ignored: key names no user", extra={"key": key})
        return ImportOutcome("ignored")
    settings = get_settings()
    with db.transaction() as conn:
        if repo.already_processed(conn, event_key):
            return ImportOutcome("duplicate_delivery")
        if not repo.user_exists(conn, target.user_id):
            logger.warning("import object ignored: no such user", extra={"key": key})
            return ImportOutcome("ignored")
        _check_access(conn, target)
        log = None
        if target.log_id and target.account:
            log = repo.open_log_for(conn, log_id=target.log_id, user_id=target.user_id, account_id=target.account_id)
            if log is not None:
                repo.mark_in_progress(conn, log_id=log["id"])
                _announce(conn, target.user_id, log["id"])
        given_format = (log["metadata"] or {}).get("format") if log else None
        mapping = repo.load_mapping(conn, target.account_id) if target.account and not target.refusal else None
    # The in_progress mark is committed on its own: a person watching GET /imports sees
    # the import running while the file is read.
    spool = RowSpool()
    try:
        rejection, details = None, {"etag": event_key.rsplit("#", 1)[1]}
        if target.refusal is None:
            try:
                with source.fetched(key, size=size, max_bytes=settings.import_max_bytes) as statement:
                    rejection = _parse_into(spool, statement, target, given_format, mapping, details)
            except ImportRejected as exc:
                rejection = exc
        spool.finish()
        return _write(event_key, key, target, spool, rejection, details)
    finally:
        spool.close()


def _parse_into(spool, statement, target, given_format, mapping, details) -> ImportRejected | None:
    """Read the whole file into the spool; the rejection (every bad line) or None."""
    errors = []
    try:
        source.inspect_content(statement, format=given_format)
        details |= {"format": statement.format, "encoding": statement.encoding}
        reader = read_statement(statement, mapping=mapping, currency=target.account["currency"])
        for item in reader.rows():
            if isinstance(item, StatementRow):
                if not errors:
                    spool.add(item)
            else:
                errors.append(item)
        if layout := getattr(reader, "layout", None):
            details["layout"] = layout.describe()
    except ImportRejected as exc:
        return ImportRejected(exc.message, sorted(exc.errors + errors, key=lambda e: e.line))
    except Exception:
        # A file that crashes a parser would crash it on every retry: poison, not a blip.
        logger.exception("statement parser failed", extra={"format": statement.format})
        return ImportRejected("The file could not be read as a bank statement")
    if errors:
        return ImportRejected(f"{len(errors)} line(s) of the file are invalid; nothing was imported", errors)
    if spool.count == 0:
        return ImportRejected("The file holds no transactions")
    details["rows"] = spool.count
    return None


def _write(event_key, key, target, spool, rejection, details) -> ImportOutcome:
    with db.transaction() as conn:
        # A 100,000-row file takes longer than an API request may; the Lambda's own
        # timeout stays the outer bound.
        conn.execute(f"SET LOCAL statement_timeout = {IMPORT_STATEMENT_TIMEOUT_MS}")
        if not repo.claim_event(conn, event_key):
            return ImportOutcome("duplicate_delivery")
        _check_access(conn, target)  # again, under the claim: access may have changed while reading
        log = None
        if target.log_id and target.account:
            log = repo.open_log_for(conn, log_id=target.log_id, user_id=target.user_id, account_id=target.account_id)
        if log is None:
            metadata = {"account_id": str(target.account_id)} if target.account_id and not target.account else {}
            log = repo.insert_log(
                conn,
                user_id=target.user_id,
                account_id=target.account["id"] if target.account else None,
                # Without an account the record can only ever be a failed one (schema check).
                status="in_progress" if target.account else "failed",
                file_key=key,
                metadata=metadata,
            )
        if target.refusal:
            rejection = ImportRejected(target.refusal)
        outcome = None
        if rejection is None:
            try:
                with conn.transaction():  # a savepoint: a refused balance leaves the claim and record intact
                    outcome = _apply(conn, target, spool, log["id"])
            except psycopg.errors.CheckViolation:
                rejection = ImportRejected(
                    f"The import would take the balance of this {target.account['type']} account below zero"
                )
        if rejection is not None:
            outcome = _fail(conn, key, target, log["id"], rejection, details)
        else:
            _complete(conn, key, target, log["id"], outcome, details)
        repo.record_event_result(conn, event_key, {"import_id": str(log["id"]), "status": outcome.status})
        _announce(conn, target.user_id, log["id"])
    logger.info(
        "import finished",
        extra={"import_id": str(outcome.import_id), "status": outcome.status, "added": outcome.added,
               "duplicates": outcome.duplicates, "rows": spool.count},
    )  # fmt: skip
    return outcome


def _announce(conn, user_id: UUID, log_id: UUID) -> None:
    """imports.updated, as GET /imports/{id} shows it, once this status commits."""
    row = repo.get_log(conn, log_id=log_id, user_id=user_id)
    if row is not None:
        live_hooks.import_updated(user_id=user_id, resource=import_out(row))


def _apply(conn, target, spool, log_id) -> ImportOutcome:
    account = target.account
    repo.stage_rows(conn, spool)
    duplicates = repo.mark_duplicates(conn, account_id=account["id"], first=spool.first_date, last=spool.last_date)
    ids = repo.insert_transactions(conn, account=account, user_id=target.user_id, import_id=log_id)
    record_changes(conn, aggregate_type="transaction", ids=ids)
    if ids:
        invalidation.invalidate_visible_to(conn, owner_id=account["user_id"], family_id=account["family_id"])
        # Budgets move with the import: alerts are decided in the same transaction.
        evaluate_budget_alerts_for_user(conn, user_id=target.user_id)
    return ImportOutcome("completed", log_id, len(ids), duplicates)


def _complete(conn, key, target, log_id, outcome, details) -> None:
    repo.finish_log(
        conn,
        log_id=log_id,
        status="completed",
        file_key=key,
        added=outcome.added,
        duplicates=outcome.duplicates,
        metadata=details,
    )
    filename = key.rsplit("/", 1)[-1]
    create_notification(
        conn,
        user_id=target.user_id,
        type="system",
        title="Statement imported",
        message=f"{filename}: {outcome.added} transaction(s) added, {outcome.duplicates} duplicate(s) skipped.",
        data={"import_id": log_id, "account_id": target.account["id"], "status": "completed"},
        dedupe_key=f"import:{log_id}:completed",
    )
    record_audit(
        conn,
        None,
        action="import.completed",
        resource_type="import",
        resource_id=log_id,
        user_id=target.user_id,
        data={"account_id": target.account["id"], "file_key": key, "added": outcome.added,
              "duplicates_skipped": outcome.duplicates, "format": details.get("format")},
    )  # fmt: skip


def _fail(conn, key, target, log_id, rejection: ImportRejected, details) -> ImportOutcome:
    limit = get_settings().import_max_listed_errors
    errors = [{"line": e.line, "message": e.message} for e in rejection.errors[:limit]]
    message = rejection.message
    if len(rejection.errors) > limit:
        message += f" (the first {limit} of {len(rejection.errors)} bad lines are listed)"
    repo.finish_log(
        conn, log_id=log_id, status="failed", file_key=key, error_message=message, errors=errors, metadata=details
    )
    filename = key.rsplit("/", 1)[-1]
    create_notification(
        conn,
        user_id=target.user_id,
        type="system",
        title="Statement import failed",
        message=f"{filename}: {message}",
        data={"import_id": log_id, "status": "failed"},
        priority="high",
        dedupe_key=f"import:{log_id}:failed",
    )
    record_audit(
        conn,
        None,
        action="import.failed",
        resource_type="import",
        resource_id=log_id,
        user_id=target.user_id,
        data={"file_key": key, "errors": len(rejection.errors)},
        success=False,
        error_message=message[:1000],
    )
    logger.warning("import failed", extra={"import_id": str(log_id), "key": key, "reason": message[:300]})
    return ImportOutcome("failed", log_id)
