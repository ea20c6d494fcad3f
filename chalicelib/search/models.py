"""Request and response models of GET /search/transactions and /search/categories; a
hit carries the ledger's own transaction and category shapes."""

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, field_validator

from chalicelib.core.types import Cursor, Money, RequestModel, ResponseModel
from chalicelib.ledger.categories.models import CategoryOut
from chalicelib.ledger.transactions.models import TransactionOut
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


class CategorySearchResult(ResponseModel):
    items: list[CategoryOut]
