"""The Elasticsearch engine: the same contract as the PostgreSQL one, over the
transactions alias kept current by the search-sync job."""

import html
from typing import Any

from chalicelib.families.access import Access
from chalicelib.infra import db, es_client
from chalicelib.search import es_bodies, repo
from chalicelib.search.engine import SearchPage, SearchRequest, empty_page, sort_facets
from chalicelib.search.text import query_words


def hit_transaction(source: dict[str, Any]) -> dict[str, Any]:
    """A document's _source as the ledger's transaction shape."""
    row = {k: v for k, v in source.items() if k not in ("amount_cents", "inflow", "location", "location_raw")}
    row["location"] = source.get("location_raw")
    return row


def marked_html(fragment: str) -> str:
    """A highlight fragment escaped like the PostgreSQL engine's, its marks as <em>…</em>."""
    escaped = html.escape(fragment)
    return escaped.replace(es_bodies.MARK_START, "<em>").replace(es_bodies.MARK_END, "</em>")


def parse_response(response: dict[str, Any], *, limit: int, category_names: dict[str, str]) -> SearchPage:
    raw_hits = response["hits"]["hits"]
    next_after = None
    if len(raw_hits) > limit:
        raw_hits = raw_hits[:limit]
        next_after = list(raw_hits[-1]["sort"])
    hits = [
        {
            "transaction": hit_transaction(h["_source"]),
            "score": float(h["_score"] or 0.0),
            "highlight": {
                k: [marked_html(f) for f in v]
                for k, v in (h.get("highlight") or {}).items()
                if k in ("description", "merchant")
            },
        }
        for h in raw_hits
    ]
    aggs = response["aggregations"]
    categories = [
        {"id": b["key"], "name": category_names.get(b["key"]), "count": b["doc_count"]}
        for b in aggs["category"]["buckets"]
    ]
    if aggs["category_missing"]["doc_count"]:
        categories.append({"id": None, "name": None, "count": aggs["category_missing"]["doc_count"]})
    facets = sort_facets(
        {
            "category": categories,
            "merchant": [{"value": b["key"], "count": b["doc_count"]} for b in aggs["merchant"]["buckets"]],
            "month": [{"value": b["key_as_string"], "count": b["doc_count"]} for b in aggs["month"]["buckets"]],
        }
    )
    return SearchPage(
        hits=hits,
        total=response["hits"]["total"]["value"],
        facets=facets,
        next_after=next_after,
        engine="elasticsearch",
    )


class ElasticsearchEngine:
    name = "elasticsearch"

    def __init__(self, client: Any = None):
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or es_client.client()

    def search_transactions(self, request: SearchRequest) -> SearchPage:
        words = query_words(request.q)
        if not words:
            return empty_page(self.name)
        body = es_bodies.transaction_search(
            words=words,
            user_id=str(request.access.user_id),
            family_ids=[str(f) for f in request.access.family_ids],
            filters=request.filters,
            size=request.limit + 1,
            search_after=request.after,
        )
        response = self.client.search(index=es_client.alias("transactions"), **body)
        response = response.body if hasattr(response, "body") else response
        ids = [b["key"] for b in response["aggregations"]["category"]["buckets"]]
        return parse_response(response, limit=request.limit, category_names=_category_names(request.access, ids))


def _category_names(access: Access, ids: list[str]) -> dict[str, str]:
    # Names come from PostgreSQL: a renamed category shows its new name at once.
    if not ids:
        return {}
    with db.transaction() as conn:
        return repo.category_names(conn, access, ids)
