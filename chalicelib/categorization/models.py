"""Request and response models of /categorization-rules."""

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from chalicelib.core.types import PageQuery, RequestModel, ResponseModel, Timestamp

MatchType = Literal["contains", "equals", "starts_with", "regex"]
RuleField = Literal["description", "merchant", "any"]


def _strip(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("must not be blank")
    return value


class RuleCreate(RequestModel):
    category_id: UUID
    pattern: str = Field(min_length=1, max_length=255)
    match_type: MatchType = "contains"
    field: RuleField = "any"
    # Rules are tried highest priority first; ties go to personal rules, then the oldest.
    priority: int = Field(default=100, ge=-10_000, le=10_000)
    family_id: UUID | None = None
    is_active: bool = True

    _not_blank = field_validator("pattern")(_strip)


class RulePatch(RequestModel):
    category_id: UUID = None
    pattern: str = Field(default=None, min_length=1, max_length=255)
    match_type: MatchType = None
    field: RuleField = None
    priority: int = Field(default=None, ge=-10_000, le=10_000)
    is_active: bool = None

    _not_blank = field_validator("pattern")(_strip)


class RuleOut(ResponseModel):
    id: UUID
    user_id: UUID
    family_id: UUID | None
    category_id: UUID
    field: RuleField
    match_type: MatchType
    pattern: str
    priority: int
    is_active: bool
    created_at: Timestamp
    updated_at: Timestamp


class RulePage(BaseModel):
    items: list[RuleOut]
    next_cursor: str | None


class RuleListQuery(PageQuery):
    family_id: UUID | None = None
