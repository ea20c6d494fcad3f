"""Family use cases: groups, members and roles (API.md "Families").

Roles: viewer reads; member also writes transactions; admin also manages accounts,
budgets, goals, categories and members; owner also deletes the family and is the only
one who can hand ownership over. A family has exactly one owner at all times: the
owner cannot leave or step down without first making another member owner (PATCH that
member's role to "owner"; the old owner becomes admin).

Deleting a family is refused (409) while it still has accounts: moving or deleting
them is a decision about money that only their managers can make. The family's own
categories, budgets and goals go with it; transactions outside the family that were
filed under one of its categories become uncategorized (with an outbox row each).

Lock order of a change to a family: the family row first (NO KEY UPDATE), then
memberships (the caller's own, which Access locks for anything above reading, then the
target's). Writes elsewhere lock only their own membership, then the rows they write,
so no two requests can wait on each other in a cycle."""

from typing import Any
from uuid import UUID

from chalicelib.audit.changes import record_change
from chalicelib.core import caching
from chalicelib.core.actor import Actor
from chalicelib.errors import Conflict, Forbidden, NotFound
from chalicelib.families import repo
from chalicelib.families.access import MANAGE, OWN, READ, Role, load_access
from chalicelib.families.models import FamilyCreate, FamilyOut, FamilyPatch, MemberAdd, MemberOut, MemberPatch
from chalicelib.infra import db, outbox


def _family(row: dict[str, Any], role: Role | str) -> dict[str, Any]:
    """The family as the use cases answer it: its row and the caller's role in it."""
    return {**row, "role": role.name if isinstance(role, Role) else role}


def _image(family: dict[str, Any]) -> dict[str, Any]:
    """The audit image of a family: exactly what the API shows of it."""
    return FamilyOut.model_validate(family).model_dump(mode="json")


def list_families(*, user_id: UUID) -> list[dict[str, Any]]:
    """The caller's families with the caller's role in each."""
    with db.transaction() as conn:
        return [_family(r, r["role"]) for r in repo.list_for_user(conn, user_id)]


def get_family(*, user_id: UUID, family_id: UUID) -> dict[str, Any]:
    """One family the caller belongs to."""
    with db.transaction() as conn:
        role = load_access(conn, user_id).require_family(family_id, READ)
        return _family(repo.get(conn, family_id), role)


def create_family(*, actor: Actor, data: FamilyCreate) -> dict[str, Any]:
    """Create a family; the caller becomes its owner."""
    with db.transaction() as conn:
        family = repo.insert(conn, owner_id=actor.user_id, name=data.name, description=data.description)
        out = _family(family, Role.owner)
        record_change(
            conn,
            actor=actor,
            action="family.create",
            resource_type="family",
            resource_id=family["id"],
            before=None,
            after=_image(out),
            owners=[(actor.user_id, None)],
        )
        return out


def update_family(*, actor: Actor, family_id: UUID, data: FamilyPatch) -> dict[str, Any]:
    """Rename or describe a family (owner or admin)."""
    changes = data.model_dump(exclude_unset=True)
    with db.transaction() as conn:
        before = repo.get(conn, family_id, for_update=True)  # first: the lock order above
        role = load_access(conn, actor.user_id).require_family(family_id, MANAGE, what="Family")
        after = repo.update(conn, family_id, changes) if changes else before
        record_change(
            conn,
            actor=actor,
            action="family.update",
            resource_type="family",
            resource_id=family_id,
            before=_image(_family(before, role)),
            after=_image(_family(after, role)),
            owners=[(actor.user_id, family_id)],
        )
        return _family(after, role)


def delete_family(*, actor: Actor, family_id: UUID) -> None:
    """Delete a family (owner only; refused while it has accounts)."""
    with db.transaction() as conn:
        family = repo.get(conn, family_id, for_update=True)
        load_access(conn, actor.user_id).require_family(family_id, OWN, what="Family")
        repo.lock_members(conn, family_id)
        accounts = repo.count_accounts(conn, family_id)
        if accounts:
            raise Conflict(
                f"This family still has {accounts} account(s); move them to a member or delete them first",
                details=[{"field": "accounts", "message": f"{accounts} account(s) remain"}],
            )
        members = repo.member_ids(conn, family_id)
        uncategorized = repo.uncategorize_family_categories(conn, family_id)
        outbox.record_changes(conn, aggregate_type="transaction", ids=uncategorized)
        outbox.record_changes(
            conn, aggregate_type="category", ids=repo.category_ids(conn, family_id), operation="delete"
        )
        repo.delete(conn, family_id)
        record_change(
            conn,
            actor=actor,
            action="family.delete",
            resource_type="family",
            resource_id=family_id,
            before={**family, "members": len(members), "transactions_uncategorized": len(uncategorized)},
            after=None,
            owners=[(actor.user_id, None)],
        )
        caching.invalidate_users(members)


def list_members(*, user_id: UUID, family_id: UUID) -> list[dict[str, Any]]:
    """The members of a family the caller belongs to."""
    with db.transaction() as conn:
        load_access(conn, user_id).require_family(family_id, READ)
        return repo.members(conn, family_id)


def add_member(*, actor: Actor, family_id: UUID, data: MemberAdd) -> dict[str, Any]:
    """Add an existing user to a family with a role (owner or admin)."""
    with db.transaction() as conn:
        repo.get(conn, family_id, for_update=True)
        load_access(conn, actor.user_id).require_family(family_id, MANAGE, what="Family")
        user = repo.user_by_email(conn, data.email)
        if user is None:
            raise NotFound("No user with this email", details=[{"field": "email", "message": "no such user"}])
        if not repo.add_member(conn, family_id, user["id"], data.role):
            raise Conflict("This user is already a member of the family")
        member = repo.member(conn, family_id, user["id"])
        _record_member(conn, "family_member.create", family_id, None, member, actor=actor)
        return member


def update_member(*, actor: Actor, family_id: UUID, user_id: UUID, data: MemberPatch) -> dict[str, Any]:
    """Change a member's role; making someone owner hands ownership over (owner only)."""
    with db.transaction() as conn:
        repo.get(conn, family_id, for_update=True)  # one role change at a time per family
        my_role = load_access(conn, actor.user_id).require_family(family_id, MANAGE, what="Family")
        target = repo.member(conn, family_id, user_id, for_update=True)
        if target is None:
            raise NotFound("Member not found")
        new_role = Role[data.role]
        if Role[target["role"]] == Role.owner:
            if new_role != Role.owner:
                raise Conflict("The owner cannot step down; make another member owner first")
        elif new_role == Role.owner:
            if my_role != Role.owner:
                raise Forbidden("Only the owner can hand ownership over")
            repo.set_role(conn, family_id, actor.user_id, Role.admin.name)
            repo.set_owner(conn, family_id, user_id)
        elif my_role != Role.owner and Role[target["role"]] >= my_role and user_id != actor.user_id:
            raise Forbidden("Admins may change the roles of members and viewers only")
        before = target
        repo.set_role(conn, family_id, user_id, new_role.name)
        after = repo.member(conn, family_id, user_id)
        _record_member(conn, "family_member.update", family_id, before, after, actor=actor)
        return after


def remove_member(*, actor: Actor, family_id: UUID, user_id: UUID) -> None:
    """Remove a member (owner or admin), or leave the family oneself."""
    with db.transaction() as conn:
        repo.get(conn, family_id, for_update=True)
        access = load_access(conn, actor.user_id)
        my_role = access.require_family(family_id, READ, what="Family")
        target = repo.member(conn, family_id, user_id, for_update=True)
        if target is None:
            raise NotFound("Member not found")
        target_role = Role[target["role"]]
        if target_role == Role.owner:
            raise Conflict("The owner cannot leave; make another member owner first")
        if user_id != actor.user_id:
            access.require_family(family_id, MANAGE, what="Family")
            if my_role != Role.owner and target_role >= my_role:
                raise Forbidden("Admins may remove members and viewers only")
        repo.remove_member(conn, family_id, user_id)
        _record_member(conn, "family_member.delete", family_id, target, None, actor=actor)
        caching.invalidate_users([user_id])


def _record_member(conn, action: str, family_id: UUID, before, after, *, actor: Actor) -> None:
    """Audit a membership change; the images are the member as the API shows it."""
    subject = MemberOut.model_validate(before or after)
    record_change(
        conn,
        actor=actor,
        action=action,
        resource_type="family_member",
        resource_id=subject.user_id,
        before={"family_id": str(family_id), **MemberOut.model_validate(before).model_dump(mode="json")}
        if before
        else None,
        after={"family_id": str(family_id), **MemberOut.model_validate(after).model_dump(mode="json")}
        if after
        else None,
        owners=[(actor.user_id, family_id), (subject.user_id, None)],
    )
