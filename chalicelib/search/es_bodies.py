"""Every request body the Elasticsearch engine sends, as pure functions (unit-tested
against expected JSON): index settings and mappings, the search query, bulk lines.

Mappings correct the seed where it loses data: `amount` is a scaled_float with factor
100 (the seed's float loses cents in sums) plus an exact `amount_cents` long for
aggregations; `location` is a geo_point built from the JSON location (its original
JSON is kept unindexed in `location_raw`); text fields use one analyzer that splits on
anything but letters and digits, lower-cases and ASCII-folds (the PostgreSQL engine's
word rule) and index prefixes for the last word's prefix match."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from chalicelib.search.engine import FACET_SIZE, Filters
from chalicelib.search.text import tolerates_typo

TEXT_FIELDS = ["description", "merchant", "notes", "tags"]
HIGHLIGHTED = ["description", "merchant"]

# Highlights come back marked with two private-use characters and unescaped; the engine
# escapes them exactly as the PostgreSQL engine does (html.escape) and only then turns the
# marks into <em>…</em>. The cluster's "html" encoder escapes differently ("/" → "&#x2F;").
MARK_START, MARK_END = "\ue000", "\ue001"

ANALYSIS = {
    "analysis": {
        "tokenizer": {"words": {"type": "pattern", "pattern": "[^\\p{L}\\p{N}]+"}},
        "analyzer": {"folded": {"type": "custom", "tokenizer": "words", "filter": ["lowercase", "asciifolding"]}},
        "normalizer": {"folded": {"type": "custom", "filter": ["lowercase", "asciifolding"]}},
    }
}

_FOLDED_TEXT = {"type": "text", "analyzer": "folded", "index_prefixes": {"min_chars": 1, "max_chars": 19}}

TRANSACTIONS_MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "keyword"},
        "user_id": {"type": "keyword"},
        "family_id": {"type": "keyword"},
        "account_id": {"type": "keyword"},
        "category_id": {"type": "keyword"},
        "amount": {"type": "scaled_float", "scaling_factor": 100},
        "amount_cents": {"type": "long"},
        "inflow": {"type": "boolean"},
        "currency": {"type": "keyword"},
        "description": {**_FOLDED_TEXT, "fields": {"raw": {"type": "keyword", "ignore_above": 1024}}},
        "merchant": {
            **_FOLDED_TEXT,
            "fields": {
                "raw": {"type": "keyword", "ignore_above": 255},
                "folded": {"type": "keyword", "normalizer": "folded", "ignore_above": 255},
            },
        },
        "notes": dict(_FOLDED_TEXT),
        "tags": {**_FOLDED_TEXT, "fields": {"raw": {"type": "keyword", "ignore_above": 100}}},
        "location": {"type": "geo_point"},
        "location_raw": {"type": "object", "enabled": False},
        "transaction_date": {"type": "date", "format": "strict_date"},
        "posted_date": {"type": "date", "format": "strict_date"},
        "status": {"type": "keyword"},
        "categorization_source": {"type": "keyword"},
        "categorization_confidence": {"type": "scaled_float", "scaling_factor": 100},
        "receipt_url": {"type": "keyword", "index": False},
        "external_id": {"type": "keyword"},
        "created_at": {"type": "date"},
        "updated_at": {"type": "date"},
    },
}

CATEGORIES_MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "keyword"},
        "name": {**_FOLDED_TEXT, "fields": {"raw": {"type": "keyword"}}},
        "description": {"type": "text", "analyzer": "folded"},
        "icon": {"type": "keyword"},
        "color": {"type": "keyword"},
        "parent_id": {"type": "keyword"},
        "is_default": {"type": "boolean"},
        "is_active": {"type": "boolean"},
        "sort_order": {"type": "integer"},
        "user_id": {"type": "keyword"},
        "family_id": {"type": "keyword"},
    },
}

# The seed's logs index; `attributes` is flattened so arbitrary keys cannot explode the mapping.
LOGS_MAPPINGS = {
    "properties": {
        "timestamp": {"type": "date"},
        "level": {"type": "keyword"},
        "service": {"type": "keyword"},
        "trace_id": {"type": "keyword"},
        "span_id": {"type": "keyword"},
        "message": {"type": "text"},
        "user_id": {"type": "keyword"},
        "attributes": {"type": "flattened"},
        "error": {
            "properties": {
                "type": {"type": "keyword"},
                "message": {"type": "text"},
                "stack_trace": {"type": "text", "index": False},
            }
        },
    }
}

INDICES = {
    "transactions": {"settings": {"number_of_shards": 1, **ANALYSIS}, "mappings": TRANSACTIONS_MAPPINGS},
    "categories": {"settings": {"number_of_shards": 1, **ANALYSIS}, "mappings": CATEGORIES_MAPPINGS},
    "logs": {"settings": {"number_of_shards": 1}, "mappings": LOGS_MAPPINGS},
}


def index_spec(kind: str, flavour: str = "elasticsearch") -> dict[str, Any]:
    """Settings and mappings of one index for the cluster's flavour. OpenSearch 2.x calls
    Elasticsearch's `flattened` type `flat_object` (same purpose: one field, any keys)."""
    spec = INDICES[kind]
    if flavour != "opensearch":
        return spec

    def swap(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: ("flat_object" if k == "type" and v == "flattened" else swap(v)) for k, v in node.items()}
        return node

    return {"settings": spec["settings"], "mappings": swap(spec["mappings"])}


def _text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return None if value is None else str(value)


def geo_point(location: Any) -> dict[str, float] | None:
    """A geo_point from the JSON location ({lat, lon} / {lat, lng} / {latitude, longitude})."""
    if not isinstance(location, dict):
        return None
    for lat_key, lon_key in (("lat", "lon"), ("lat", "lng"), ("latitude", "longitude")):
        try:
            lat, lon = float(location[lat_key]), float(location[lon_key])
        except (KeyError, TypeError, ValueError):
            continue
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return {"lat": lat, "lon": lon}
    return None


def transaction_document(row: dict[str, Any]) -> dict[str, Any]:
    doc = {
        key: _text(row[key])
        for key in (
            "id",
            "user_id",
            "family_id",
            "account_id",
            "category_id",
            "amount",
            "currency",
            "description",
            "merchant",
            "transaction_date",
            "posted_date",
            "status",
            "categorization_source",
            "receipt_url",
            "external_id",
            "created_at",
            "updated_at",
            "notes",
        )
    }
    doc["amount_cents"] = int(Decimal(row["amount"]) * 100)
    doc["inflow"] = doc["amount_cents"] > 0
    confidence = row.get("categorization_confidence")
    doc["categorization_confidence"] = None if confidence is None else f"{Decimal(confidence):.2f}"
    doc["tags"] = list(row.get("tags") or [])
    doc["location"] = geo_point(row.get("location"))
    doc["location_raw"] = row.get("location")
    return doc


def category_document(row: dict[str, Any]) -> dict[str, Any]:
    doc = {
        key: _text(row[key])
        for key in ("id", "name", "description", "icon", "color", "parent_id", "user_id", "family_id")
    }
    doc.update(is_default=bool(row["is_default"]), is_active=bool(row["is_active"]), sort_order=row["sort_order"])
    return doc


def bulk_lines(operations: list[tuple[str, str, str, int, dict | None]]) -> list[dict[str, Any]]:
    """(action "index"|"delete", index, id, version, document) → NDJSON lines, each
    versioned externally by its outbox id so an older change never overwrites a newer one."""
    lines: list[dict[str, Any]] = []
    for action, index, doc_id, version, document in operations:
        lines.append({action: {"_index": index, "_id": doc_id, "version": version, "version_type": "external"}})
        if action == "index":
            lines.append(document)
    return lines


def scope_filter(user_id: str, family_ids: list[str]) -> dict[str, Any]:
    """What the caller may read, as access.visible() says it: own personal rows or their families'."""
    return {
        "bool": {
            "should": [
                {
                    "bool": {
                        "filter": [{"term": {"user_id": user_id}}],
                        "must_not": [{"exists": {"field": "family_id"}}],
                    }
                },
                {"terms": {"family_id": family_ids}},
            ],
            "minimum_should_match": 1,
        }
    }


def filter_clauses(filters: Filters) -> list[dict[str, Any]]:
    clauses: list[dict[str, Any]] = []
    for field, value in (
        ("account_id", filters.account_id),
        ("category_id", filters.category_id),
        ("family_id", filters.family_id),
        ("status", filters.status),
        ("tags.raw", filters.tag),
        ("merchant.folded", filters.merchant),
    ):
        if value is not None:
            clauses.append({"term": {field: str(value)}})
    dates = {k: v.isoformat() for k, v in (("gte", filters.from_), ("lte", filters.to)) if v is not None}
    if dates:
        clauses.append({"range": {"transaction_date": dates}})
    cents = {k: int(v * 100) for k, v in (("gte", filters.min_amount), ("lte", filters.max_amount)) if v is not None}
    if cents:
        clauses.append({"range": {"amount_cents": cents}})
    return clauses


def word_clause(word: str, *, last: bool, fields: list[str] = TEXT_FIELDS) -> dict[str, Any]:
    """One query word: exact; or as a prefix when last; or one typo at 5+ letters (never
    a prefix of a typo). match/multi_match only: the text is never parsed as syntax."""
    should: list[dict[str, Any]] = [{"multi_match": {"query": word, "fields": fields, "boost": 3}}]
    if last:
        should.append({"multi_match": {"query": word, "fields": fields, "type": "bool_prefix", "boost": 2}})
    if tolerates_typo(word):
        should.append(
            {
                "multi_match": {
                    "query": word,
                    "fields": fields,
                    "fuzziness": 1,
                    "prefix_length": 0,
                    "max_expansions": 100,
                    "fuzzy_transpositions": False,
                }
            }
        )
    return {"bool": {"should": should, "minimum_should_match": 1}}


def highlight_query(words: list[str]) -> dict[str, Any]:
    """What highlights mark: the same words, with the last one's prefix as a wildcard.
    The search itself answers a prefix from the `_index_prefix` subfield, which the
    highlighter does not see on the field itself; a word holds only letters and digits,
    so it cannot carry wildcard syntax."""
    should: list[dict[str, Any]] = [word_clause(w, last=False, fields=HIGHLIGHTED) for w in words]
    if words:
        should.extend({"wildcard": {f: {"value": f"{words[-1]}*"}}} for f in HIGHLIGHTED)
    return {"bool": {"should": should}}


def transaction_search(
    *,
    words: list[str],
    user_id: str,
    family_ids: list[str],
    filters: Filters,
    size: int,
    search_after: list[Any] | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "query": {
            "bool": {
                "must": [word_clause(w, last=i == len(words) - 1) for i, w in enumerate(words)],
                "filter": [scope_filter(user_id, family_ids), *filter_clauses(filters)],
            }
        },
        "sort": [{"_score": "desc"}, {"transaction_date": "desc"}, {"created_at": "desc"}, {"id": "desc"}],
        "size": size,
        "track_total_hits": True,
        "aggs": {
            "category": {
                "terms": {"field": "category_id", "size": FACET_SIZE, "order": [{"_count": "desc"}, {"_key": "asc"}]}
            },
            "category_missing": {"missing": {"field": "category_id"}},
            "merchant": {
                "terms": {"field": "merchant.raw", "size": FACET_SIZE, "order": [{"_count": "desc"}, {"_key": "asc"}]}
            },
            "month": {
                "date_histogram": {
                    "field": "transaction_date",
                    "calendar_interval": "month",
                    "format": "yyyy-MM",
                    "min_doc_count": 1,
                }
            },
        },
        "highlight": {
            "pre_tags": [MARK_START],
            "post_tags": [MARK_END],
            "fields": {"description": {"number_of_fragments": 0}, "merchant": {"number_of_fragments": 0}},
            "highlight_query": highlight_query(words),
        },
    }
    if search_after is not None:
        body["search_after"] = search_after
    return body
