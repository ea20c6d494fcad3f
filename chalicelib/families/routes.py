"""/families and /families/{id}/members (API.md "Families")."""

from uuid import UUID

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.families import service
from chalicelib.families.models import (
    FamilyCreate,
    FamilyList,
    FamilyOut,
    FamilyPatch,
    MemberAdd,
    MemberList,
    MemberOut,
    MemberPatch,
)

routes = ApiBlueprint(__name__, tag="families")


@routes.route("/families", method="POST", body=FamilyCreate, response=FamilyOut, status=201)
def create_family(ctx: RequestContext, body: FamilyCreate):
    """Create a family; the caller becomes its owner."""
    return FamilyOut.model_validate(service.create_family(actor=ctx.actor, data=body))


@routes.route("/families", response=FamilyList)
def list_families(ctx: RequestContext):
    """The caller's families."""
    return FamilyList(items=[FamilyOut.model_validate(f) for f in service.list_families(user_id=ctx.user_id)])


@routes.route("/families/{family_id}", response=FamilyOut, errors_=(404,))
def get_family(ctx: RequestContext, family_id: UUID):
    """One of the caller's families."""
    return FamilyOut.model_validate(service.get_family(user_id=ctx.user_id, family_id=family_id))


@routes.route("/families/{family_id}", method="PATCH", body=FamilyPatch, response=FamilyOut, errors_=(403, 404))
def update_family(ctx: RequestContext, family_id: UUID, body: FamilyPatch):
    """Rename or describe a family (owner or admin)."""
    return FamilyOut.model_validate(service.update_family(actor=ctx.actor, family_id=family_id, data=body))


@routes.route("/families/{family_id}", method="DELETE", status=204, errors_=(403, 404, 409))
def delete_family(ctx: RequestContext, family_id: UUID):
    """Delete a family (owner; refused with 409 while it has accounts)."""
    service.delete_family(actor=ctx.actor, family_id=family_id)


@routes.route("/families/{family_id}/members", response=MemberList, errors_=(404,))
def list_members(ctx: RequestContext, family_id: UUID):
    """The members of a family."""
    return MemberList(
        items=[MemberOut.model_validate(m) for m in service.list_members(user_id=ctx.user_id, family_id=family_id)]
    )


@routes.route(
    "/families/{family_id}/members",
    method="POST",
    body=MemberAdd,
    response=MemberOut,
    status=201,
    errors_=(403, 404, 409),
)
def add_member(ctx: RequestContext, family_id: UUID, body: MemberAdd):
    """Add an existing user to the family (owner or admin)."""
    return MemberOut.model_validate(service.add_member(actor=ctx.actor, family_id=family_id, data=body))


@routes.route(
    "/families/{family_id}/members/{user_id}",
    method="PATCH",
    body=MemberPatch,
    response=MemberOut,
    errors_=(403, 404, 409),
)
def update_member(ctx: RequestContext, family_id: UUID, user_id: UUID, body: MemberPatch):
    """Change a member's role; role "owner" hands ownership over (owner only)."""
    return MemberOut.model_validate(
        service.update_member(actor=ctx.actor, family_id=family_id, user_id=user_id, data=body)
    )


@routes.route("/families/{family_id}/members/{user_id}", method="DELETE", status=204, errors_=(403, 404, 409))
def remove_member(ctx: RequestContext, family_id: UUID, user_id: UUID):
    """Remove a member (owner or admin) or leave the family."""
    service.remove_member(actor=ctx.actor, family_id=family_id, user_id=user_id)
