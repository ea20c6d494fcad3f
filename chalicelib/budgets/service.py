"""Budget use cases: create, read, change, delete, and the status of a period."""

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from chalicelib.audit.service import record_audit
from chalicelib.budgets import repo, spending
from chalicelib.budgets.models import BudgetCreate, BudgetPatch, BudgetStatus, CategoryStatus
from chalicelib.budgets.periods import period_containing
from chalicelib.core.actor import Actor
from chalicelib.core.caching import invalidate_visible_to
from chalicelib.core.dates import local_today, user_timezone
from chalicelib.core.paging import decode_created, page
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.families.access import MANAGE, READ, load_access
from chalicelib.infra import db

CENT = Decimal("0.01")


def line_state(*, spent: Decimal, allocated: Decimal, threshold: Decimal) -> str:
    """ok, warning (at or above the threshold) or exceeded (above 100 %)."""
    if spent > allocated:
        return "exceeded"
    if spent >= threshold * allocated:
        return "warning"
    return "ok"


def percent(spent: Decimal, allocated: Decimal) -> float:
    if allocated <= 0:
        return 0.0
    return float((spent * 100 / allocated).quantize(CENT))


WORST = {"ok": 0, "warning": 1, "exceeded": 2}


def _validate(fields: dict[str, Any], category_ids: list[UUID] | None, usable: set[UUID]) -> None:
    details = []
    if fields["period_type"] == "custom" and fields.get("end_date") is None:
        details.append({"field": "end_date", "message": "is required for a custom period"})
    if fields.get("end_date") is not None and fields["end_date"] <= fields["start_date"]:
        details.append({"field": "end_date", "message": "must be after start_date"})
    for index, category_id in enumerate(category_ids or []):
        if category_id not in usable:
            details.append({"field": f"categories.{index}.category_id", "message": "is not a category you can use"})
    if details:
        raise ValidationFailed("The budget is not valid", details=details)


def _load(conn: psycopg.Connection, access, budget_id: UUID, need, *, for_update: bool = False) -> dict[str, Any]:
    row = repo.get(conn, budget_id, for_update=for_update)
    if row is None:
        raise NotFound("Budget not found")
    access.authorize(owner_id=row["user_id"], family_id=row["family_id"], need=need, what="Budget")
    return row


def _lines(body_lines) -> list[dict[str, Any]]:
    return [line.model_dump() for line in body_lines]


def create_budget(*, actor: Actor, data: BudgetCreate) -> dict[str, Any]:
    """Create a budget with its category allocations."""
    user_id = actor.user_id
    with db.transaction() as conn:
        access = load_access(conn, user_id)
        if data.family_id is not None:
            access.require_family(data.family_id, MANAGE)
        fields = data.model_dump(exclude={"categories", "family_id"})
        ids = [line.category_id for line in data.categories]
        _validate(fields, ids, repo.usable_categories(conn, access, ids, family_id=data.family_id))
        budget_id = repo.insert(conn, user_id=user_id, family_id=data.family_id, fields=fields)
        repo.replace_categories(conn, budget_id, _lines(data.categories))
        budget = repo.get(conn, budget_id)
        record_audit(
            conn, actor=actor, action="budget.create", resource_type="budget", resource_id=budget_id, data=fields
        )
        invalidate_visible_to(conn, owner_id=user_id, family_id=data.family_id)
        return budget


def list_budgets(
    *, user_id: UUID, family_id: UUID | None, include_inactive: bool, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The caller's and their families' budgets, newest first."""
    after = decode_created(cursor)
    with db.transaction() as conn:
        access = load_access(conn, user_id)
        if family_id is not None:
            access.require_family(family_id, READ)
        rows = repo.list_visible(
            conn, access, family_id=family_id, include_inactive=include_inactive, after=after, limit=limit
        )
    items, next_cursor = page(rows, limit)
    return items, next_cursor


def get_budget(*, user_id: UUID, budget_id: UUID) -> dict[str, Any]:
    """One budget the caller can see."""
    with db.transaction() as conn:
        return _load(conn, load_access(conn, user_id), budget_id, READ)


def update_budget(*, actor: Actor, budget_id: UUID, data: BudgetPatch) -> dict[str, Any]:
    """Change a budget; `categories`, when given, replaces its allocations."""
    user_id = actor.user_id
    changes = data.model_dump(exclude_unset=True, exclude={"categories"})
    with db.transaction() as conn:
        access = load_access(conn, user_id)
        row = _load(conn, access, budget_id, MANAGE, for_update=True)
        merged = {**row, **changes}
        ids = [line.category_id for line in data.categories] if data.categories is not None else None
        usable = repo.usable_categories(conn, access, ids or [], family_id=row["family_id"])
        _validate(merged, ids, usable)
        repo.update(conn, budget_id, changes)
        if data.categories is not None:
            repo.replace_categories(conn, budget_id, _lines(data.categories))
        budget = repo.get(conn, budget_id)
        record_audit(
            conn, actor=actor, action="budget.update", resource_type="budget", resource_id=budget_id, data=changes
        )
        invalidate_visible_to(conn, owner_id=row["user_id"], family_id=row["family_id"])
        return budget


def delete_budget(*, actor: Actor, budget_id: UUID) -> None:
    """Delete a budget and its allocations."""
    user_id = actor.user_id
    with db.transaction() as conn:
        row = _load(conn, load_access(conn, user_id), budget_id, MANAGE, for_update=True)
        repo.delete(conn, budget_id)
        record_audit(conn, actor=actor, action="budget.delete", resource_type="budget", resource_id=budget_id)
        invalidate_visible_to(conn, owner_id=row["user_id"], family_id=row["family_id"])


def budget_status(*, user_id: UUID, budget_id: UUID, on: date | None) -> BudgetStatus:
    """Allocated, spent and state per category for the period that contains `on`
    (default: today in the budget owner's timezone)."""
    with db.transaction() as conn:
        row = _load(conn, load_access(conn, user_id), budget_id, READ)
        day = on or local_today(user_timezone(conn, row["user_id"]))
        period = period_containing(
            period_type=row["period_type"], start_date=row["start_date"], end_date=row["end_date"], on=day
        )
        if period is None:
            raise ValidationFailed.field("date", "is outside the budget's start and end dates")
        lines = spending.budget_lines(
            conn, where=sql.SQL("b.id = {}").format(sql.Literal(budget_id)), on_date=sql.Literal(day)
        )
    categories = [line_status(line) for line in lines if line["category_id"] is not None]
    return BudgetStatus(
        budget_id=budget_id,
        period_start=period.start,
        period_end=period.end,
        total_allocated=sum((c.allocated_amount for c in categories), Decimal("0.00")),
        total_spent=sum((c.spent_amount for c in categories), Decimal("0.00")),
        categories=categories,
    )


def line_status(line: dict[str, Any]) -> CategoryStatus:
    spent, allocated, threshold = line["spent"], line["allocated_amount"], line["alert_threshold"]
    return CategoryStatus(
        category_id=line["category_id"],
        allocated_amount=allocated,
        spent_amount=spent,
        remaining_amount=allocated - spent,
        percent_used=percent(spent, allocated),
        alert_threshold=threshold,
        state=line_state(spent=spent, allocated=allocated, threshold=threshold),
    )
