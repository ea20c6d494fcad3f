"""Request and response models of GET /search/transactions and /search/categories."""

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, field_validator

from chalicelib.api.types import Cursor, Money, RequestModel, ResponseModel, Timestamp
from chalicelib.search.text import MAX_QUERY_LENGTH

Status = Literal["pending", "posted", "cancelled", "disputed"]


# What _check_q allows, for the document: some character that is not a space, and no NUL.
Q_PATTERN = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
Query = Annotated[str, Field(json_schema_extra={"pattern": Q_PATTERN, "maxLength": MAX_QUERY_LENGTH})]


def _check_q(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    if len(value) > MAX_QUERY_LENGTH:
        raise ValueError(f"must be at most {MAX_QUERY_LENGTH} characters")
    return value


class TransactionSearchQuery(RequestModel):
    q: Query
    account_id: UUID | None = None
    category_id: UUID | None = None
    family_id: UUID | None = None
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    min_amount: Money | None = None
    max_amount: Money | None = None
    status: Status | None = None
    tag: str | None = Field(default=None, max_length=100)
    merchant: str | None = Field(default=None, max_length=255)
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Cursor | None = None

    _q = field_validator("q")(_check_q)


class CategorySearchQuery(RequestModel):
    q: Query

    _q = field_validator("q")(_check_q)


class TransactionOut(ResponseModel):
    """The ledger's transaction shape (API.md "Transactions")."""

    id: UUID
    user_id: UUID
    family_id: UUID | None
    account_id: UUID
    category_id: UUID | None
    amount: Money
    currency: str | None
    description: str
    merchant: str | None
    location: dict[str, Any] | None
    transaction_date: date
    posted_date: date | None
    status: str
    categorization_source: str | None
    categorization_confidence: float | None
    tags: list[str]
    notes: str | None
    receipt_url: str | None
    external_id: str | None
    created_at: Timestamp
    updated_at: Timestamp

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> list[str]:
        return list(value or [])


class Hit(ResponseModel):
    transaction: TransactionOut
    score: float
    # Only the fields that matched: {"description"?: [...], "merchant"?: [...]}.
    highlight: dict[Literal["description", "merchant"], list[str]]


class CategoryFacet(ResponseModel):
    id: UUID | None
    name: str | None
    count: int


class ValueFacet(ResponseModel):
    value: str
    count: int


class Facets(ResponseModel):
    category: list[CategoryFacet]
    merchant: list[ValueFacet]
    month: list[ValueFacet]


class TransactionSearchResult(ResponseModel):
    items: list[Hit]
    facets: Facets
    total: int
    next_cursor: str | None
    engine: Literal["elasticsearch", "postgres"]


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
    sort_order: int | None


class CategorySearchResult(ResponseModel):
    items: list[CategoryOut]
