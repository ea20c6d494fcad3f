"""Use cases of categorization rules: a user's own (or, for admins, their family's)
rules that the importer and the create-transaction path apply first."""

from typing import Any
from uuid import UUID

import psycopg

from chalicelib.audit.service import record_audit
from chalicelib.categorization import repo
from chalicelib.categorization.models import RuleCreate, RulePatch
from chalicelib.core import paging
from chalicelib.core.actor import Actor
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.families.access import MANAGE, READ, Access, load_access
from chalicelib.infra import db


def _authorize(access: Access, rule: dict | None, need) -> dict:
    if rule is None:
        raise NotFound("Categorization rule not found")
    if rule["family_id"] is None:
        access.authorize(owner_id=rule["user_id"], family_id=None, what="Categorization rule")
    else:
        access.require_family(rule["family_id"], need, what="Categorization rule")
    return rule


def _check_category(conn: psycopg.Connection, access: Access, category_id: UUID, family_id: UUID | None) -> None:
    category = repo.category(conn, category_id)
    if category is None or not (
        category["is_default"] or access.can_see(owner_id=category["user_id"], family_id=category["family_id"])
    ):
        raise NotFound("Category not found")
    if not category["is_active"]:
        raise ValidationFailed.field("category_id", "is an inactive category")
    if family_id is not None and not category["is_default"] and category["family_id"] != family_id:
        # Every member the rule applies to must be able to see the category it assigns.
        raise ValidationFailed.field("category_id", "a family rule needs a default category or one of that family's")


def _check_pattern(conn: psycopg.Connection, match_type: str, pattern: str) -> None:
    if match_type == "regex" and not repo.regex_is_valid(conn, pattern):
        raise ValidationFailed.field("pattern", "is not a valid regular expression")


def create_rule(*, actor: Actor, data: RuleCreate) -> dict[str, Any]:
    """Create a rule: personal, or for a family the caller administers."""
    user_id = actor.user_id
    with db.transaction() as conn:
        access = load_access(conn, user_id)
        if data.family_id is not None:
            access.require_family(data.family_id, MANAGE)
        _check_category(conn, access, data.category_id, data.family_id)
        _check_pattern(conn, data.match_type, data.pattern)
        row = repo.insert(conn, user_id=user_id, fields=data.model_dump())
        record_audit(conn, actor=actor, action="categorization_rule.created", resource_type="categorization_rule",
                     resource_id=row["id"], data=data.model_dump())  # fmt: skip
    return row


def list_rules(
    *, user_id: UUID, limit: int, cursor: str | None, family_id: UUID | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The rules the caller can see: their own and their families'."""
    after = paging.decode_created(cursor or None)
    with db.transaction() as conn:
        access = load_access(conn, user_id)
        if family_id is not None:
            access.require_family(family_id, READ)
        rows = repo.list_visible(conn, visible=access.visible(), limit=limit + 1, after=after, family_id=family_id)
    return paging.page(rows, limit)


def update_rule(*, actor: Actor, rule_id: UUID, data: RulePatch) -> dict[str, Any]:
    """Change a rule's pattern, target category, priority or state."""
    user_id = actor.user_id
    changes = data.model_dump(exclude_unset=True)
    with db.transaction() as conn:
        access = load_access(conn, user_id)
        rule = _authorize(access, repo.get(conn, rule_id, for_update=True), MANAGE)
        if "category_id" in changes:
            _check_category(conn, access, changes["category_id"], rule["family_id"])
        _check_pattern(conn, changes.get("match_type", rule["match_type"]), changes.get("pattern", rule["pattern"]))
        row = repo.update(conn, rule_id, changes) if changes else rule
        record_audit(conn, actor=actor, action="categorization_rule.updated", resource_type="categorization_rule",
                     resource_id=rule_id, data=changes)  # fmt: skip
    return row


def delete_rule(*, actor: Actor, rule_id: UUID) -> None:
    """Delete a rule."""
    user_id = actor.user_id
    with db.transaction() as conn:
        access = load_access(conn, user_id)
        _authorize(access, repo.get(conn, rule_id, for_update=True), MANAGE)
        repo.delete(conn, rule_id)
        record_audit(conn, actor=actor, action="categorization_rule.deleted", resource_type="categorization_rule",
                     resource_id=rule_id)  # fmt: skip
