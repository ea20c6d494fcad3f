"""Category use cases (API.md "Categories").

The default tree is read-only (403). A user's own categories carry user_id; a family's
carry family_id (created and changed by the family's admins and owner). A parent must
be one the caller can see (404 otherwise) and either a default or of the same owner
(a personal category under a family one would vanish with the family); no cycles, at
most MAX_DEPTH levels.

Deleting a category: its subcategories move up to its parent, its transactions move
to its parent (or to no category when it had none), then it is deleted; budget lines
and categorization rules for it go with it (foreign keys)."""

from typing import Any
from uuid import UUID

import psycopg

from chalicelib.audit.changes import record_change
from chalicelib.core.actor import Actor
from chalicelib.errors import Forbidden, NotFound, ValidationFailed
from chalicelib.families.access import MANAGE, Access, load_access
from chalicelib.infra import db, outbox
from chalicelib.ledger.categories import repo
from chalicelib.ledger.categories.models import CategoryCreate, CategoryOut, CategoryPatch

MAX_DEPTH = 4


def list_categories(*, user_id: UUID) -> list[dict[str, Any]]:
    """Defaults plus the caller's and their families' own categories."""
    with db.transaction() as conn:
        access = load_access(conn, user_id)
        return repo.list_visible(conn, visible=access.visible("c"))


def visible_category(conn: psycopg.Connection, access: Access, category_id: UUID) -> dict[str, Any] | None:
    """The category if it is a default or the caller can see it, else None."""
    row = repo.get(conn, category_id)
    if row is None:
        return None
    if row["is_default"] or access.can_see(owner_id=row["user_id"], family_id=row["family_id"]):
        return row
    return None


def _authorize_write(access: Access, row: dict[str, Any]) -> None:
    if row["is_default"]:
        raise Forbidden("Default categories are read-only")
    access.authorize(owner_id=row["user_id"], family_id=row["family_id"], need=MANAGE, what="Category")


def get_category(*, user_id: UUID, category_id: UUID) -> dict[str, Any]:
    """One category the caller can see."""
    with db.transaction() as conn:
        row = visible_category(conn, load_access(conn, user_id), category_id)
        if row is None:
            raise NotFound("Category not found")
        return row


def _check_parent(
    conn: psycopg.Connection,
    access: Access,
    parent_id: UUID,
    *,
    family_id: UUID | None,
    user_id: UUID | None,
    moving: UUID | None = None,
) -> None:
    parent = visible_category(conn, access, parent_id)
    if parent is None:
        raise NotFound("Parent category not found", details=[{"field": "parent_id", "message": "not found"}])
    if not parent["is_default"] and (parent["family_id"], parent["user_id"]) != (family_id, user_id):
        raise ValidationFailed.field("parent_id", "must be a default category or one of the same owner")
    depth, ancestors = repo.depth_of(conn, parent_id)
    if moving is not None and moving in ancestors:
        raise ValidationFailed.field("parent_id", "would make the category its own ancestor")
    height = repo.subtree_height(conn, moving) if moving is not None else 1
    if depth + height > MAX_DEPTH:
        raise ValidationFailed.field("parent_id", f"categories nest at most {MAX_DEPTH} levels deep")


def create_category(*, actor: Actor, data: CategoryCreate) -> dict[str, Any]:
    """Create a personal category, or a family one (family admin or owner)."""
    with db.transaction() as conn:
        access = load_access(conn, actor.user_id)
        if data.family_id is not None:
            access.require_family(data.family_id, MANAGE)
            owner = {"family_id": data.family_id, "user_id": None}
        else:
            owner = {"family_id": None, "user_id": actor.user_id}
        if data.parent_id is not None:
            _check_parent(conn, access, data.parent_id, **owner)
        row = repo.insert(conn, {**data.model_dump(exclude={"family_id"}), **owner, "is_default": False})
        outbox.record_changes(conn, aggregate_type="category", ids=[row["id"]])
        record_change(
            conn,
            actor=actor,
            action="category.create",
            resource_type="category",
            resource_id=row["id"],
            before=None,
            after=CategoryOut(**row).model_dump(mode="json"),
            owners=[(actor.user_id, row["family_id"])],
        )
        return row


def update_category(*, actor: Actor, category_id: UUID, data: CategoryPatch) -> dict[str, Any]:
    """Change one's own (or one's family's) category."""
    changes = data.model_dump(exclude_unset=True)
    with db.transaction() as conn:
        access = load_access(conn, actor.user_id)
        before = visible_category(conn, access, category_id)
        if before is None:
            raise NotFound("Category not found")
        _authorize_write(access, before)
        repo.get(conn, category_id, for_update=True)
        if changes.get("parent_id") is not None and changes["parent_id"] != before["parent_id"]:
            _check_parent(
                conn,
                access,
                changes["parent_id"],
                family_id=before["family_id"],
                user_id=before["user_id"],
                moving=category_id,
            )
        row = repo.update(conn, category_id, changes) if changes else before
        outbox.record_changes(conn, aggregate_type="category", ids=[category_id])
        record_change(
            conn,
            actor=actor,
            action="category.update",
            resource_type="category",
            resource_id=category_id,
            before=CategoryOut(**before).model_dump(mode="json"),
            after=CategoryOut(**row).model_dump(mode="json"),
            owners=[(actor.user_id, row["family_id"])],
        )
        return row


def delete_category(*, actor: Actor, category_id: UUID) -> None:
    """Delete a category; its subcategories and transactions move to its parent."""
    with db.transaction() as conn:
        access = load_access(conn, actor.user_id)
        before = visible_category(conn, access, category_id)
        if before is None:
            raise NotFound("Category not found")
        _authorize_write(access, before)
        repo.get(conn, category_id, for_update=True)
        moved = repo.reassign_and_delete(conn, category_id, before["parent_id"])
        outbox.record_changes(conn, aggregate_type="category", ids=[category_id], operation="delete")
        outbox.record_changes(conn, aggregate_type="category", ids=moved["children"])
        outbox.record_changes(conn, aggregate_type="transaction", ids=moved["transactions"])
        owners = [(actor.user_id, before["family_id"])]
        # Transactions of other people (family members' personal ones) may have used it.
        owners += [
            (r["user_id"], r["family_id"])
            for r in conn.execute(
                "SELECT DISTINCT user_id, family_id FROM transactions WHERE id = ANY(%s)", (moved["transactions"],)
            )
        ]
        record_change(
            conn,
            actor=actor,
            action="category.delete",
            resource_type="category",
            resource_id=category_id,
            before={**CategoryOut(**before).model_dump(mode="json"), "transactions_moved": len(moved["transactions"])},
            after=None,
            owners=owners,
        )
