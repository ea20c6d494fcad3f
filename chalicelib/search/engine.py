"""The search adapter: one contract, two engines. ELASTICSEARCH_URL set → Elasticsearch;
unset → PostgreSQL. What both engines take and give back lives here."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from chalicelib.core import paging
from chalicelib.families.access import Access
from chalicelib.infra.settings import get_settings

FACET_SIZE = 20


@dataclass(frozen=True)
class Filters:
    account_id: UUID | None = None
    category_id: UUID | None = None
    family_id: UUID | None = None
    from_: date | None = None
    to: date | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    status: str | None = None
    tag: str | None = None
    merchant: str | None = None


@dataclass(frozen=True)
class SearchRequest:
    access: Access
    q: str
    filters: Filters
    limit: int
    after: list[Any] | None  # the decoded cursor: the sort key of the last item served


@dataclass
class SearchPage:
    hits: list[dict[str, Any]]  # {"transaction": row, "score": float, "highlight": {...}}
    total: int
    facets: dict[str, list[dict[str, Any]]]
    next_after: list[Any] | None
    engine: str


class Engine(Protocol):
    name: str

    def search_transactions(self, request: SearchRequest) -> SearchPage: ...


def empty_page(engine: str) -> SearchPage:
    return SearchPage(
        hits=[], total=0, facets={"category": [], "merchant": [], "month": []}, next_after=None, engine=engine
    )


def encode_cursor(engine: str, after: list[Any] | None) -> str | None:
    return None if after is None else paging.encode([engine, *after])


def decode_cursor(engine: str, cursor: str | None) -> list[Any] | None:
    def parse(values: list[Any]) -> list[Any]:
        # A cursor from the other engine (the cluster was switched on or off) is stale, not valid.
        if len(values) != 5 or values[0] != engine:
            raise ValueError("not a cursor of this engine")
        return values[1:]

    return None if cursor is None else paging.decode(cursor, parse)


def sort_facets(facets: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """One order for both engines: most frequent first, then by key (null last); months by value."""
    return {
        "category": sorted(facets["category"], key=lambda f: (-f["count"], f["id"] is None, str(f["id"] or "")))[
            :FACET_SIZE
        ],
        "merchant": sorted(facets["merchant"], key=lambda f: (-f["count"], f["value"]))[:FACET_SIZE],
        "month": sorted(facets["month"], key=lambda f: f["value"]),
    }


def get_engine() -> Engine:
    """The engine serving this process's settings (the Elasticsearch client loads lazily)."""
    if get_settings().elasticsearch_url:
        from chalicelib.search.es_engine import ElasticsearchEngine

        return ElasticsearchEngine()
    from chalicelib.search.pg_engine import PostgresEngine

    return PostgresEngine()
