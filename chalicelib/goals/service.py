"""Savings goal use cases: create, read, change, delete, contribute; milestones."""

from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg

from chalicelib.audit.service import record_audit
from chalicelib.core.actor import Actor
from chalicelib.core.caching import invalidate_visible_to
from chalicelib.core.dates import local_today, user_timezone
from chalicelib.core.paging import decode_created, page
from chalicelib.core.types import MAX_MONEY
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.families.access import CONTRIBUTE, MANAGE, READ, load_access
from chalicelib.goals import repo
from chalicelib.goals.models import ContributionIn, GoalCreate, GoalPatch
from chalicelib.infra import db
from chalicelib.notifications.service import create_notification

MILESTONES = (25, 50, 75, 100)


def progress_percent(current: Decimal, target: Decimal) -> float:
    return float((current * 100 / target).quantize(Decimal("0.01"))) if target > 0 else 0.0


def crossed_milestones(*, before: Decimal, after: Decimal, target: Decimal) -> list[int]:
    """Milestones reached by going from `before` to `after` (exact: no rounding at 24.999 %)."""
    return [m for m in MILESTONES if before * 100 < m * target <= after * 100]


def _goal(row: dict[str, Any]) -> dict[str, Any]:
    """The goal as the use cases answer it: its row and how far it has come."""
    return {**row, "progress_percent": progress_percent(row["current_amount"], row["target_amount"])}


def _load(conn: psycopg.Connection, access, goal_id: UUID, need, *, for_update: bool = False) -> dict[str, Any]:
    row = repo.get(conn, goal_id, for_update=for_update)
    if row is None:
        raise NotFound("Goal not found")
    access.authorize(owner_id=row["user_id"], family_id=row["family_id"], need=need, what="Goal")
    return row


def _check_target_date(conn: psycopg.Connection, *, owner_id: UUID, target_date) -> None:
    # Decision 3: validated here, on create and change, in the owner's timezone; a CHECK
    # against CURRENT_DATE would break every later update of an old goal.
    if target_date is not None and target_date < local_today(user_timezone(conn, owner_id)):
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


def create_goal(*, actor: Actor, data: GoalCreate) -> dict[str, Any]:
    """Create a savings goal."""
    user_id = actor.user_id
    with db.transaction() as conn:
        access = load_access(conn, user_id)
        if data.family_id is not None:
            access.require_family(data.family_id, MANAGE)
        _check_target_date(conn, owner_id=user_id, target_date=data.target_date)
        fields = data.model_dump(exclude={"family_id"})
        goal_id = repo.insert(conn, user_id=user_id, family_id=data.family_id, fields=fields)
        row = repo.get(conn, goal_id)
        record_audit(conn, actor=actor, action="goal.create", resource_type="goal", resource_id=goal_id, data=fields)
        invalidate_visible_to(conn, owner_id=user_id, family_id=data.family_id)
        return _goal(row)


def list_goals(
    *, user_id: UUID, family_id: UUID | None, include_inactive: bool, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The caller's and their families' goals, newest first."""
    after = decode_created(cursor)
    with db.transaction() as conn:
        access = load_access(conn, user_id)
        if family_id is not None:
            access.require_family(family_id, READ)
        rows = repo.list_visible(
            conn, access, family_id=family_id, include_inactive=include_inactive, after=after, limit=limit
        )
    items, next_cursor = page(rows, limit)
    return [_goal(r) for r in items], next_cursor


def get_goal(*, user_id: UUID, goal_id: UUID) -> dict[str, Any]:
    """One goal the caller can see."""
    with db.transaction() as conn:
        return _goal(_load(conn, load_access(conn, user_id), goal_id, READ))


def update_goal(*, actor: Actor, goal_id: UUID, data: GoalPatch) -> dict[str, Any]:
    """Change a goal; a new target date may not be in the past."""
    user_id = actor.user_id
    changes = data.model_dump(exclude_unset=True)
    with db.transaction() as conn:
        row = _load(conn, load_access(conn, user_id), goal_id, MANAGE, for_update=True)
        if "target_date" in changes and changes["target_date"] != row["target_date"]:
            _check_target_date(conn, owner_id=row["user_id"], target_date=changes["target_date"])
        repo.update(conn, goal_id, changes)
        goal = repo.get(conn, goal_id)
        _notify_milestones(conn, goal, before=row["current_amount"] * goal["target_amount"] / row["target_amount"])
        record_audit(conn, actor=actor, action="goal.update", resource_type="goal", resource_id=goal_id, data=changes)
        invalidate_visible_to(conn, owner_id=row["user_id"], family_id=row["family_id"])
        return _goal(goal)


def delete_goal(*, actor: Actor, goal_id: UUID) -> None:
    """Delete a goal."""
    user_id = actor.user_id
    with db.transaction() as conn:
        row = _load(conn, load_access(conn, user_id), goal_id, MANAGE, for_update=True)
        repo.delete(conn, goal_id)
        record_audit(conn, actor=actor, action="goal.delete", resource_type="goal", resource_id=goal_id)
        invalidate_visible_to(conn, owner_id=row["user_id"], family_id=row["family_id"])


def contribute(*, actor: Actor, goal_id: UUID, data: ContributionIn) -> dict[str, Any]:
    """Add to (or, negative, take from) a goal's saved amount; notify milestones crossed."""
    user_id = actor.user_id
    with db.transaction() as conn:
        row = _load(conn, load_access(conn, user_id), goal_id, CONTRIBUTE, for_update=True)
        after = row["current_amount"] + data.amount
        if after < 0:
            raise ValidationFailed.field("amount", f"would take the goal below zero (saved: {row['current_amount']})")
        if after > MAX_MONEY:
            raise ValidationFailed.field("amount", "would take the goal above the largest amount")
        repo.update(conn, goal_id, {"current_amount": after})
        goal = repo.get(conn, goal_id)
        _notify_milestones(conn, goal, before=row["current_amount"])
        record_audit(
            conn,
            actor=actor,
            action="goal.contribute",
            resource_type="goal",
            resource_id=goal_id,
            data={"amount": data.amount},
        )
        invalidate_visible_to(conn, owner_id=row["user_id"], family_id=row["family_id"])
        return _goal(goal)
