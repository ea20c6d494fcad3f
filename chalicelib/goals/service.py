"""Savings goal use cases: create, read, change, delete, contribute; milestones."""

from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg

from chalicelib.api.context import RequestContext
from chalicelib.audit.service import record_audit
from chalicelib.budgets.periods import local_today
from chalicelib.core.types import MAX_MONEY
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.families.access import CONTRIBUTE, MANAGE, READ, load_access
from chalicelib.goals import repo
from chalicelib.goals.models import ContributionIn, GoalCreate, GoalOut, GoalPage, GoalPatch
from chalicelib.infra import db
from chalicelib.infra.invalidation import invalidate_visible_to
from chalicelib.notifications.paging import decode_cursor, page
from chalicelib.notifications.service import create_notification

MILESTONES = (25, 50, 75, 100)


def progress_percent(current: Decimal, target: Decimal) -> float:
    return float((current * 100 / target).quantize(Decimal("0.01"))) if target > 0 else 0.0


def crossed_milestones(*, before: Decimal, after: Decimal, target: Decimal) -> list[int]:
    """Milestones reached by going from `before` to `after` (exact: no rounding at 24.999 %)."""
    return [m for m in MILESTONES if before * 100 < m * target <= after * 100]


def _out(row: dict[str, Any]) -> GoalOut:
    return GoalOut.model_validate(
        {**row, "progress_percent": progress_percent(row["current_amount"], row["target_amount"])}
    )


def _load(conn: psycopg.Connection, access, goal_id: UUID, need, *, for_update: bool = False) -> dict[str, Any]:
    row = repo.get(conn, goal_id, for_update=for_update)
    if row is None:
        raise NotFound("Goal not found")
    access.authorize(owner_id=row["user_id"], family_id=row["family_id"], need=need, what="Goal")
    return row


def _check_target_date(conn: psycopg.Connection, *, owner_id: UUID, target_date) -> None:
    # Decision 3: validated here, on create and change, in the owner's timezone; a CHECK
    # against CURRENT_DATE would break every later update of an old goal.
    if target_date is not None and target_date < local_today(repo.owner_timezone(conn, owner_id)):
        raise ValidationFailed.field("target_date", "may not be in the past")


def _notify_milestones(conn: psycopg.Connection, goal: dict[str, Any], before: Decimal) -> None:
    reached = crossed_milestones(before=before, after=goal["current_amount"], target=goal["target_amount"])
    if not reached:
        return
    users = repo.recipients(conn, owner_id=goal["user_id"], family_id=goal["family_id"])
    for milestone in reached:
        title = f"{goal['name']}: goal reached" if milestone == 100 else f"{goal['name']}: {milestone}% saved"
        message = (
            f"{goal['current_amount']} of {goal['target_amount']} {goal['currency']} saved towards {goal['name']}."
        )
        for user_id in users:
            create_notification(
                conn,
                user_id=user_id,
                type="goal_milestone",
                title=title,
                message=message,
                data={"goal_id": goal["id"], "milestone": milestone},
                priority="high" if milestone == 100 else "normal",
                dedupe_key=f"goal:{goal['id']}:milestone:{milestone}",
            )


def create_goal(ctx: RequestContext, *, user_id: UUID, body: GoalCreate) -> GoalOut:
    """Create a savings goal."""
    with db.transaction() as conn:
        access = load_access(conn, user_id)
        if body.family_id is not None:
            access.require_family(body.family_id, MANAGE)
        _check_target_date(conn, owner_id=user_id, target_date=body.target_date)
        fields = body.model_dump(exclude={"family_id"})
        goal_id = repo.insert(conn, user_id=user_id, family_id=body.family_id, fields=fields)
        row = repo.get(conn, goal_id)
        record_audit(conn, ctx, action="goal.create", resource_type="goal", resource_id=goal_id, data=fields)
        invalidate_visible_to(conn, owner_id=user_id, family_id=body.family_id)
        return _out(row)


def list_goals(
    *, user_id: UUID, family_id: UUID | None, include_inactive: bool, cursor: str | None, limit: int
) -> GoalPage:
    """The caller's and their families' goals, newest first."""
    after = decode_cursor(cursor)
    with db.transaction() as conn:
        access = load_access(conn, user_id)
        if family_id is not None:
            access.require_family(family_id, READ)
        rows = repo.list_visible(
            conn, access, family_id=family_id, include_inactive=include_inactive, after=after, limit=limit
        )
    items, next_cursor = page(rows, limit)
    return GoalPage(items=[_out(r) for r in items], next_cursor=next_cursor)


def get_goal(*, user_id: UUID, goal_id: UUID) -> GoalOut:
    """One goal the caller can see."""
    with db.transaction() as conn:
        return _out(_load(conn, load_access(conn, user_id), goal_id, READ))


def update_goal(ctx: RequestContext, *, user_id: UUID, goal_id: UUID, body: GoalPatch) -> GoalOut:
    """Change a goal; a new target date may not be in the past."""
    changes = body.model_dump(exclude_unset=True)
    for required in ("name", "goal_type", "target_amount", "current_amount", "currency", "is_active"):
        if required in changes and changes[required] is None:
            raise ValidationFailed.field(required, "may not be null")
    with db.transaction() as conn:
        row = _load(conn, load_access(conn, user_id), goal_id, MANAGE, for_update=True)
        if "target_date" in changes and changes["target_date"] != row["target_date"]:
            _check_target_date(conn, owner_id=row["user_id"], target_date=changes["target_date"])
        repo.update(conn, goal_id, changes)
        goal = repo.get(conn, goal_id)
        _notify_milestones(conn, goal, before=row["current_amount"] * goal["target_amount"] / row["target_amount"])
        record_audit(conn, ctx, action="goal.update", resource_type="goal", resource_id=goal_id, data=changes)
        invalidate_visible_to(conn, owner_id=row["user_id"], family_id=row["family_id"])
        return _out(goal)


def delete_goal(ctx: RequestContext, *, user_id: UUID, goal_id: UUID) -> None:
    """Delete a goal."""
    with db.transaction() as conn:
        row = _load(conn, load_access(conn, user_id), goal_id, MANAGE, for_update=True)
        repo.delete(conn, goal_id)
        record_audit(conn, ctx, action="goal.delete", resource_type="goal", resource_id=goal_id)
        invalidate_visible_to(conn, owner_id=row["user_id"], family_id=row["family_id"])


def contribute(ctx: RequestContext, *, user_id: UUID, goal_id: UUID, body: ContributionIn) -> GoalOut:
    """Add to (or, negative, take from) a goal's saved amount; notify milestones crossed."""
    with db.transaction() as conn:
        row = _load(conn, load_access(conn, user_id), goal_id, CONTRIBUTE, for_update=True)
        after = row["current_amount"] + body.amount
        if after < 0:
            raise ValidationFailed.field("amount", f"would take the goal below zero (saved: {row['current_amount']})")
        if after > MAX_MONEY:
            raise ValidationFailed.field("amount", "would take the goal above the largest amount")
        repo.update(conn, goal_id, {"current_amount": after})
        goal = repo.get(conn, goal_id)
        _notify_milestones(conn, goal, before=row["current_amount"])
        record_audit(
            conn, ctx, action="goal.contribute", resource_type="goal", resource_id=goal_id, data={"amount": body.amount}
        )
        invalidate_visible_to(conn, owner_id=row["user_id"], family_id=row["family_id"])
        return _out(goal)
