"""Request and response models of /categories."""

from typing import Annotated
from uuid import UUID

from pydantic import BeforeValidator, Field

from chalicelib.core.types import RequestModel, ResponseModel, strip_text

CategoryName = Annotated[str, BeforeValidator(strip_text), Field(min_length=1, max_length=100)]
Color = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$", examples=["#2E7D32"])]
# An icon is a name from the client's icon set ("cart", "credit-card"), never markup or a URL.
Icon = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,49}$", examples=["cart"])]
Description = Annotated[str, Field(max_length=1000)]
SortOrder = Annotated[int, Field(ge=0, le=1_000_000)]


class CategoryCreate(RequestModel):
    name: CategoryName
    parent_id: UUID | None = None
    description: Description | None = None
    icon: Icon | None = None
    color: Color | None = None
    family_id: UUID | None = None
    sort_order: SortOrder = 0


class CategoryPatch(RequestModel):
    name: CategoryName = None
    parent_id: UUID | None = None
    description: Description | None = None
    icon: Icon | None = None
    color: Color | None = None
    sort_order: SortOrder = None


class CategoryOut(ResponseModel):
    id: UUID
    name: str
    description: str | None
    icon: str | None
    color: str | None
    parent_id: UUID | None
    is_default: bool
    user_id: UUID | None
    family_id: UUID | None
    sort_order: int


class CategoryList(ResponseModel):
    items: list[CategoryOut]
