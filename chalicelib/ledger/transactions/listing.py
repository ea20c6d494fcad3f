"""GET /transactions: the caller's visible transactions, filtered, newest first."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from chalicelib.core import paging
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.families.access import READ, load_access
from chalicelib.infra import db
from chalicelib.ledger.accounts.service import load_authorized
from chalicelib.ledger.categories.service import visible_category
from chalicelib.ledger.transactions.models import TransactionQuery
from chalicelib.ledger.transactions.query import Filters, fetch_page


def _parse_cursor(values: list) -> tuple[date, datetime, UUID]:
    day, created_at, last_id = values
    return date.fromisoformat(day), datetime.fromisoformat(created_at), UUID(last_id)


def _cursor_key(row: dict) -> list[str]:
    return [row["transaction_date"].isoformat(), row["created_at"].isoformat(), str(row["id"])]


def list_transactions(*, user_id: UUID, query: TransactionQuery) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the transactions the caller can see; ids the caller cannot read answer 404."""
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise ValidationFailed.field("to", "must not be before from")
    if query.min_amount is not None and query.max_amount is not None and query.min_amount > query.max_amount:
        raise ValidationFailed.field("max_amount", "must not be below min_amount")
    after = paging.decode(query.cursor, _parse_cursor) if query.cursor else None
    with db.transaction() as conn:
        access = load_access(conn, user_id)
        if query.family_id is not None:
            access.require_family(query.family_id, READ)
        if query.account_id is not None:
            load_authorized(conn, access, query.account_id)
        if query.category_id is not None and visible_category(conn, access, query.category_id) is None:
            raise NotFound("Category not found")
        filters = Filters(
            account_id=query.account_id,
            category_id=query.category_id,
            date_from=query.date_from,
            date_to=query.date_to,
            min_amount=query.min_amount,
            max_amount=query.max_amount,
            status=query.status,
            tag=query.tag,
            merchant=query.merchant,
            q=query.q,
            after=after,
        )
        rows = fetch_page(
            conn,
            access.visible_parts("t", family_id=query.family_id),
            filters,
            limit=query.limit + 1,
            include_archived=query.include_archived,
        )
    return paging.page(rows, query.limit, _cursor_key)
