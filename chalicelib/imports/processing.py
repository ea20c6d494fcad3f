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
failed import in that same claimed transaction, so it is never retried; so is any other
exception (a bug, a constraint the rows break): the import ends `failed` with a message
and the failure notification. Only transient failures (database or bucket unreachable)
raise and are delivered again; if they never succeed, the upkeep (sweep.py) fails the
import once it has been in_progress too long.

A preview reads the file the same way and stores what it found instead of booking it
(claim `…#preview`); each confirm of that import (or of a failed one) is an attempt of
its own (claim `…#confirm-N`) that also settles the object's S3 event, and runs only
while the record, locked, is in_progress for that very attempt.
"""

import re
from dataclasses import dataclass, field
from uuid import UUID

import psycopg
import urllib3

from chalicelib.budgets.alerts import evaluate_budget_alerts_for_user
from chalicelib.core import caching
from chalicelib.errors import BalanceBelowZero
from chalicelib.families.access import WRITE_TRANSACTIONS, load_access
from chalicelib.imports import outcomes, repo, source
from chalicelib.imports.models import import_out
from chalicelib.imports.rejections import ImportRejected, MappingRequired, Skipped
from chalicelib.imports.staging import RowSpool
from chalicelib.imports.statement import StatementRow
from chalicelib.imports.statement_readers import read_statement
from chalicelib.imports.uploaders import uploader_refusal
from chalicelib.infra import db, storage
from chalicelib.infra.logging import logger
from chalicelib.infra.outbox import record_changes
from chalicelib.infra.settings import get_settings
from chalicelib.live import hooks as live_hooks

IMPORT_STATEMENT_TIMEOUT_MS = 600_000
PREVIEW_ROWS = 20
_KEY = re.compile(r"^imports/([^/]+)/([^/]+)/(.+)$")
NOT_WRITABLE = "Account not found: a file under imports/{user_id}/{account_id}/ imports only into an account you may add transactions to"  # noqa: E501
UNAVAILABLE = "The file could not be imported because storage or the database was unavailable; confirm it again"
CRASHED = "The import stopped on an unexpected error and nothing was imported; confirm it to try again"
# Outages of the database or the bucket: raised so that the event is delivered again (and
# the upkeep fails the import if no delivery ever gets through). Anything else is final.
TRANSIENT = (
    psycopg.OperationalError,
    storage.StorageError,
    urllib3.exceptions.HTTPError,
    ConnectionError,
    TimeoutError,
)


class _Refused(ImportRejected):
    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ImportOutcome:
    status: str  # completed, preview, failed, duplicate_delivery, ignored, superseded
    import_id: UUID | None = None
    added: int = 0
    duplicates: int = 0
    updated: int = 0


@dataclass
class _Target:
    user_id: UUID
    account_id: UUID | None
    account_ref: str
    log_id: UUID | None
    account: dict | None = None
    refusal: str | None = None
    uploader_refusal: str | None = None  # the writer may not drop here (chalicelib/imports/uploaders.py)


@dataclass
class _Run:
    """One attempt at one object: the claim that makes it happen once, the other claims
    it settles, and whether it books the rows or only previews them."""

    key: str
    etag: str
    event_key: str
    target: _Target
    preview: bool = False
    attempt: int | None = None  # the confirm attempt this run finishes
    settles: list[str] = field(default_factory=list)

    @property
    def shows_rows(self) -> bool:
        # A preview shows its first rows; a confirm shows the rows it booked, which a
        # mapping may have read differently from the preview.
        return self.preview or self.attempt is not None


_SUPERSEDED = object()


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


def _object_event(bucket: str, key: str, etag: str | None) -> str:
    return f"s3://{bucket}/{key}#{(etag or '').strip(chr(34))}"


def _check_access(conn: psycopg.Connection, target: _Target) -> None:
    target.account = repo.find_account(conn, target.account_id) if target.account_id else None
    target.refusal = target.uploader_refusal
    if target.refusal:
        return
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


def import_object(
    *, bucket: str, key: str, etag: str | None, size: int | None, writer: str | None = None
) -> ImportOutcome:
    """Import (or preview) one object created under imports/ (called by the S3 handler);
    `writer` is the event's userIdentity.principalId (None: the storage reports none)."""
    object_event = _object_event(bucket, key, etag)
    target = _target(key)
    if target is None:
        logger.warning("import object ignored: key names no user", extra={"key": key})
        return ImportOutcome("ignored")
    with db.transaction() as conn:
        if repo.already_processed(conn, object_event):
            return ImportOutcome("duplicate_delivery")
        if not repo.user_exists(conn, target.user_id):
            logger.warning("import object ignored: no such user", extra={"key": key})
            return ImportOutcome("ignored")
        target.uploader_refusal = uploader_refusal(conn, principal_id=writer, user_id=target.user_id, key=key)
        _check_access(conn, target)
        log = None
        if target.log_id and target.account:
            log = repo.open_log_for(conn, log_id=target.log_id, user_id=target.user_id, account_id=target.account_id)
            if log is not None:
                repo.mark_in_progress(conn, log_id=log["id"])
                _announce(conn, target.user_id, log["id"])
        metadata = (log["metadata"] or {}) if log else {}
        mapping = repo.load_mapping(conn, target.account_id) if target.account and not target.refusal else None
    # The in_progress mark is committed on its own: a person watching GET /imports sees
    # the import running while the file is read.
    preview = bool(metadata.get("preview"))
    run = _Run(
        key=key,
        etag=object_event.rsplit("#", 1)[1],
        event_key=f"{object_event}#preview" if preview else object_event,
        target=target,
        preview=preview,
        settles=[object_event] if preview else [],
    )
    return _process(run, size=size, given_format=metadata.get("format"), mapping=mapping)


def confirm_object(*, log_id: UUID, user_id: UUID, account_id: UUID, key: str, attempt: int) -> ImportOutcome:
    """Run confirm attempt `attempt` of an import: its object, fetched from the bucket again,
    imported with the account's (just saved) mapping."""
    try:
        return _confirm(log_id=log_id, user_id=user_id, account_id=account_id, key=key, attempt=attempt)
    except TRANSIENT:
        # A request is not delivered again: end the attempt now where the database allows,
        # so that it can be confirmed again at once (else the upkeep ends it).
        try:
            _fail_attempt(log_id=log_id, user_id=user_id, key=key, attempt=attempt)
        except TRANSIENT:
            logger.warning("confirm attempt left for the upkeep", extra={"import_id": str(log_id)})
        raise


def _fail_attempt(*, log_id: UUID, user_id: UUID, key: str, attempt: int) -> None:
    with db.transaction() as conn:
        if repo.lock_confirm_attempt(conn, log_id=log_id, attempt=attempt) is not None:
            outcomes.failed(
                conn, key=key, user_id=user_id, log_id=log_id, rejection=ImportRejected(UNAVAILABLE),
                error_code="unavailable", details={},
            )  # fmt: skip


def _confirm(*, log_id: UUID, user_id: UUID, account_id: UUID, key: str, attempt: int) -> ImportOutcome:
    try:
        stat = storage.stat(key)
        etag, size = stat.etag, stat.size
    except storage.ObjectNotFound:
        etag, size = None, None  # the read below refuses it: "no longer in the bucket"
    object_event = _object_event(storage.bucket(), key, etag)
    target = _Target(user_id=user_id, account_id=account_id, account_ref=str(account_id), log_id=log_id)
    with db.transaction() as conn:
        _check_access(conn, target)
        given_format = (repo.get_log(conn, log_id=log_id, user_id=user_id)["metadata"] or {}).get("format")
        mapping = repo.load_mapping(conn, account_id) if target.account and not target.refusal else None
    run = _Run(
        key=key,
        etag=object_event.rsplit("#", 1)[1],
        event_key=f"{object_event}#confirm-{attempt}",
        target=target,
        attempt=attempt,
        # A late delivery of the object's own event must find it done.
        settles=[object_event, f"{object_event}#preview"],
    )
    return _process(run, size=size, given_format=given_format, mapping=mapping)


def _process(run: _Run, *, size: int | None, given_format: str | None, mapping: dict | None) -> ImportOutcome:
    spool = RowSpool()
    try:
        details = {"etag": run.etag}
        rejection = None
        if run.target.refusal is None:
            try:
                with source.fetched(run.key, size=size, max_bytes=get_settings().import_max_bytes) as statement:
                    rejection = _parse_into(spool, statement, run, given_format, mapping, details)
            except ImportRejected as exc:
                rejection = exc
        spool.finish()
        return _write(run, spool, rejection, details)
    except TRANSIENT:
        raise
    except Exception:
        # Whatever broke would break again on every retry: the import ends here, failed.
        logger.exception("import crashed", extra={"key": run.key})
        return _record_crash(run)
    finally:
        spool.close()


def _reader(statement, mapping: dict | None, account: dict):
    view = {k: account[k] for k in ("id", "type", "currency", "account_number_masked")}
    return read_statement(statement, mapping=mapping, account=view)


def _preview_row(row: StatementRow) -> dict:
    return {
        "line": row.line,
        "date": row.transaction_date.isoformat(),
        "posted_date": row.posted_date.isoformat() if row.posted_date else None,
        "amount": str(row.amount),
        "description": row.description,
        "merchant": row.merchant,
        "memo": row.memo,
        "external_id": row.external_id,
        "status": row.status,
    }


def _parse_into(spool, statement, run, given_format, mapping, details) -> ImportRejected | None:
    """Read the whole file into the spool, noting what was decided in `details`; the
    rejection (every bad line) or None."""
    errors, skipped, preview_rows, reader = [], [], [], None
    try:
        source.inspect_content(statement, format=given_format)
        details |= {"format": statement.format, "encoding": statement.encoding}
        reader = _reader(statement, mapping, run.target.account)
        for item in reader.rows():
            if isinstance(item, StatementRow):
                if run.shows_rows and len(preview_rows) < PREVIEW_ROWS:
                    preview_rows.append(_preview_row(item))
                if not errors:
                    spool.add(item)
            elif isinstance(item, Skipped):
                skipped.append(item)
            else:
                errors.append(item)
    except MappingRequired as exc:
        _describe(details, statement, reader, skipped, preview_rows if run.shows_rows else None)
        details["layout"] |= exc.layout
        details["candidates"] = exc.candidates
        return exc
    except ImportRejected as exc:
        _describe(details, statement, reader, skipped, preview_rows if run.shows_rows else None)
        exc.errors = sorted(exc.errors + errors, key=lambda e: e.line)
        return exc
    except Exception:
        # A file that crashes a parser would crash it on every retry: poison, not a blip.
        logger.exception("statement parser failed", extra={"format": statement.format})
        return ImportRejected("The file could not be read as a bank statement")
    _describe(details, statement, reader, skipped, preview_rows if run.shows_rows else None)
    if errors:
        return ImportRejected(f"{len(errors)} line(s) of the file are invalid; nothing was imported", errors)
    if spool.count == 0:
        return ImportRejected("The file holds no transactions")
    details["rows"] = spool.count
    return None


def _describe(details, statement, reader, skipped, preview_rows) -> None:
    """What the reading decided, as GET /imports/{id} shows it. The reader's report is
    whole once rows() is exhausted (there is no reader when the file was refused before
    its rows were read)."""
    layout = {"format": statement.format, "encoding": statement.encoding}
    warnings: list[str] = []
    if reader is not None:
        layout |= reader.report.layout or {}
        skipped = reader.report.skipped or skipped
        warnings = list(reader.report.warnings)
    limit = get_settings().import_max_listed_errors
    details |= {
        "layout": layout,
        "skipped": [{"line": s.line, "reason": s.reason} for s in skipped[:limit]],
        "warnings": warnings,
        "candidates": None,
    }
    if preview_rows is not None:
        details["preview_rows"] = preview_rows


def _open_log(conn, run: _Run):
    """The record this run finishes, locked: None when it must make one, _SUPERSEDED when
    a confirm owns the record now (or this confirm attempt is no longer the running one)."""
    target = run.target
    if run.attempt is not None:
        return repo.lock_confirm_attempt(conn, log_id=target.log_id, attempt=run.attempt) or _SUPERSEDED
    if not (target.log_id and target.account):
        return None
    log = repo.open_log_for(conn, log_id=target.log_id, user_id=target.user_id, account_id=target.account_id)
    if log is not None and "confirm_attempt" in (log["metadata"] or {}):
        return _SUPERSEDED
    return log


def _new_log(conn, run: _Run) -> dict:
    target = run.target
    metadata = {"account_id": str(target.account_id)} if target.account_id and not target.account else {}
    return repo.insert_log(
        conn,
        user_id=target.user_id,
        account_id=target.account["id"] if target.account else None,
        # Without an account the record can only ever be a failed one (schema check).
        status="in_progress" if target.account else "failed",
        file_key=run.key,
        metadata=metadata,
    )


def _write(run: _Run, spool: RowSpool, rejection: ImportRejected | None, details: dict) -> ImportOutcome:
    target = run.target
    with db.transaction() as conn:
        # A 100,000-row file takes longer than an API request may; the Lambda's own
        # timeout stays the outer bound.
        conn.execute(f"SET LOCAL statement_timeout = {IMPORT_STATEMENT_TIMEOUT_MS}")
        if not repo.claim_event(conn, run.event_key):
            return ImportOutcome("duplicate_delivery")
        if run.settles:
            repo.claim_events(conn, run.settles)
        _check_access(conn, target)  # again, under the claim: access may have changed while reading
        log = _open_log(conn, run)
        if log is _SUPERSEDED:
            return ImportOutcome("superseded", target.log_id)
        if log is None:
            log = _new_log(conn, run)
        if target.refusal:
            # A file from a writer who may not drop there can never be confirmed into the ledger.
            code = "uploader_not_allowed" if target.uploader_refusal else "account_not_writable"
            rejection = _Refused(target.refusal, code)
        outcome = None
        if rejection is None and run.preview:
            outcomes.previewed(conn, key=run.key, user_id=target.user_id, log_id=log["id"], details=details)
            outcome = ImportOutcome("preview", log["id"])
        elif rejection is None:
            try:
                with conn.transaction():  # a savepoint: a refused balance leaves the claim and record intact
                    outcome = _apply(conn, target, spool, log["id"])
            except BalanceBelowZero:
                rejection = _Refused(
                    f"The import would take the balance of this {target.account['type']} account below zero",
                    "balance_below_zero",
                )
        if rejection is not None:
            outcomes.failed(
                conn, key=run.key, user_id=target.user_id, log_id=log["id"], rejection=rejection,
                error_code=rejection.code, details=details, max_listed=get_settings().import_max_listed_errors,
            )  # fmt: skip
            outcome = ImportOutcome("failed", log["id"])
        elif outcome.status == "completed":
            outcomes.completed(
                conn, key=run.key, user_id=target.user_id, account_id=target.account["id"], log_id=log["id"],
                added=outcome.added, updated=outcome.updated, duplicates=outcome.duplicates, details=details,
            )  # fmt: skip
        repo.record_event_result(conn, run.event_key, {"import_id": str(log["id"]), "status": outcome.status})
        _announce(conn, target.user_id, log["id"])
    logger.info(
        "import finished",
        extra={"import_id": str(outcome.import_id), "status": outcome.status, "added": outcome.added,
               "updated": outcome.updated, "duplicates": outcome.duplicates, "rows": spool.count},
    )  # fmt: skip
    return outcome


def _record_crash(run: _Run) -> ImportOutcome:
    """Fail the run's import after an unexpected error, claimed like any outcome so that a
    redelivery does not crash it again. A database that is down raises from here too; the
    upkeep then fails the import."""
    target = run.target
    with db.transaction() as conn:
        if not repo.claim_event(conn, run.event_key):
            return ImportOutcome("duplicate_delivery")
        if run.settles:
            repo.claim_events(conn, run.settles)
        _check_access(conn, target)
        log = _open_log(conn, run)
        if log is _SUPERSEDED:
            return ImportOutcome("superseded", target.log_id)
        if log is None:
            log = _new_log(conn, run)
        outcomes.failed(
            conn, key=run.key, user_id=target.user_id, log_id=log["id"], rejection=ImportRejected(CRASHED),
            error_code="internal_error", details={"etag": run.etag},
        )  # fmt: skip
        repo.record_event_result(conn, run.event_key, {"import_id": str(log["id"]), "status": "failed"})
        _announce(conn, target.user_id, log["id"])
    return ImportOutcome("failed", log["id"])


def _announce(conn, user_id: UUID, log_id: UUID) -> None:
    """imports.updated, as GET /imports/{id} shows it, once this status commits."""
    row = repo.get_log(conn, log_id=log_id, user_id=user_id)
    if row is not None:
        live_hooks.import_updated(user_id=user_id, resource=import_out(row))


def _apply(conn, target, spool, log_id) -> ImportOutcome:
    account = target.account
    repo.stage_rows(conn, spool)
    duplicates = repo.mark_duplicates(conn, account_id=account["id"], first=spool.first_date, last=spool.last_date)
    updated = repo.replace_pending_twins(conn, account_id=account["id"], import_id=log_id)
    # The added rows' outbox entries are written by the INSERT itself.
    added = repo.insert_transactions(conn, account=account, user_id=target.user_id, import_id=log_id)
    record_changes(conn, aggregate_type="transaction", ids=updated)
    if updated or added:
        caching.invalidate_visible_to(conn, owner_id=account["user_id"], family_id=account["family_id"])
        # Budgets move with the import: alerts are decided in the same transaction.
        evaluate_budget_alerts_for_user(conn, user_id=target.user_id)
    return ImportOutcome("completed", log_id, added, duplicates, len(updated))
