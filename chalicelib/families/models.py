"""Request and response models of /families."""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BeforeValidator, Field

from chalicelib.core.types import RequestModel, ResponseModel, Timestamp, strip_text
from chalicelib.users.fields import Email

FamilyRole = Literal["owner", "admin", "member", "viewer"]
InvitedRole = Literal["admin", "member", "viewer"]
FamilyName = Annotated[str, BeforeValidator(strip_text), Field(min_length=1, max_length=100)]
Description = Annotated[str, Field(max_length=2000)]


class FamilyCreate(RequestModel):
    name: FamilyName
    description: Description | None = None


class FamilyPatch(RequestModel):
    name: FamilyName = None
    description: Description | None = None


class FamilyOut(ResponseModel):
    id: UUID
    name: str
    description: str | None
    owner_id: UUID
    role: FamilyRole
    created_at: Timestamp
    updated_at: Timestamp


class FamilyList(ResponseModel):
    items: list[FamilyOut]


class MemberAdd(RequestModel):
    email: Email
    role: InvitedRole


class MemberPatch(RequestModel):
    role: FamilyRole


class MemberOut(ResponseModel):
    user_id: UUID
    email: str
    first_name: str | None
    last_name: str | None
    role: FamilyRole
    joined_at: Timestamp


class MemberList(ResponseModel):
    items: list[MemberOut]
