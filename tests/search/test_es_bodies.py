"""Every request body the Elasticsearch engine builds, against the expected JSON."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from chalicelib.analytics.es_aggs import grouped_body
from chalicelib.families.access import Access, Role
from chalicelib.search import es_bodies
from chalicelib.search.engine import Filters
from chalicelib.search.es_engine import parse_response

FIELDS = ["description", "merchant", "notes", "tags"]
ME = "00000000-0000-0000-0000-0000000000aa"
FAM = "00000000-0000-0000-0000-0000000000fa"


def test_index_settings_fold_accents_split_on_non_alphanumerics_and_index_prefixes():
    spec = es_bodies.INDICES["transactions"]
    assert spec["settings"]["analysis"] == {
        "tokenizer": {"words": {"type": "pattern", "pattern": "[^\\p{L}\\p{N}]+"}},
        "analyzer": {"folded": {"type": "custom", "tokenizer": "words", "filter": ["lowercase", "asciifolding"]}},
        "normalizer": {"folded": {"type": "custom", "filter": ["lowercase", "asciifolding"]}},
    }
    props = spec["mappings"]["properties"]
    assert props["amount"] == {"type": "scaled_float", "scaling_factor": 100}
    assert props["amount_cents"] == {"type": "long"}
    assert props["location"] == {"type": "geo_point"}
    assert props["location_raw"] == {"type": "object", "enabled": False}
    assert props["description"] == {
        "type": "text",
        "analyzer": "folded",
        "index_prefixes": {"min_chars": 1, "max_chars": 19},
        "fields": {"raw": {"type": "keyword", "ignore_above": 1024}},
    }
    assert props["merchant"]["fields"] == {
        "raw": {"type": "keyword", "ignore_above": 255},
        "folded": {"type": "keyword", "normalizer": "folded", "ignore_above": 255},
    }
    assert spec["mappings"]["dynamic"] == "strict"
    assert es_bodies.INDICES["logs"]["mappings"]["properties"]["attributes"] == {"type": "flattened"}
    assert es_bodies.INDICES["categories"]["mappings"]["properties"]["name"]["analyzer"] == "folded"


def test_word_clauses_exact_prefix_for_the_last_word_and_one_typo_from_five_letters():
    assert es_bodies.word_clause("amzn", last=False) == {
        "bool": {
            "should": [{"multi_match": {"query": "amzn", "fields": FIELDS, "boost": 3}}],
            "minimum_should_match": 1,
        }
    }
    assert es_bodies.word_clause("amazon", last=True) == {
        "bool": {
            "should": [
                {"multi_match": {"query": "amazon", "fields": FIELDS, "boost": 3}},
                {"multi_match": {"query": "amazon", "fields": FIELDS, "type": "bool_prefix", "boost": 2}},
                {
                    "multi_match": {
                        "query": "amazon",
                        "fields": FIELDS,
                        "fuzziness": 1,
                        "prefix_length": 0,
                        "max_expansions": 100,
                        "fuzzy_transpositions": False,
                    }
                },
            ],
            "minimum_should_match": 1,
        }
    }


def test_the_search_body_scopes_filters_sorts_aggregates_and_highlights():
    filters = Filters(
        account_id=UUID(int=1),
        from_=date(2026, 1, 1),
        to=date(2026, 1, 31),
        min_amount=Decimal("-10.50"),
        status="posted",
        tag="work",
        merchant="Uber",
    )
    body = es_bodies.transaction_search(
        words=["star"], user_id=ME, family_ids=[FAM], filters=filters, size=11, search_after=[2.5, 1, 2, "x"]
    )
    assert body == {
        "query": {
            "bool": {
                "must": [es_bodies.word_clause("star", last=True)],
                "filter": [
                    {
                        "bool": {
                            "should": [
                                {
                                    "bool": {
                                        "filter": [{"term": {"user_id": ME}}],
                                        "must_not": [{"exists": {"field": "family_id"}}],
                                    }
                                },
                                {"terms": {"family_id": [FAM]}},
                            ],
                            "minimum_should_match": 1,
                        }
                    },
                    {"term": {"account_id": str(UUID(int=1))}},
                    {"term": {"status": "posted"}},
                    {"term": {"tags.raw": "work"}},
                    {"term": {"merchant.folded": "Uber"}},
                    {"range": {"transaction_date": {"gte": "2026-01-01", "lte": "2026-01-31"}}},
                    {"range": {"amount_cents": {"gte": -1050}}},
                ],
            }
        },
        "sort": [{"_score": "desc"}, {"transaction_date": "desc"}, {"created_at": "desc"}, {"id": "desc"}],
        "size": 11,
        "track_total_hits": True,
        "aggs": {
            "category": {"terms": {"field": "category_id", "size": 20, "order": [{"_count": "desc"}, {"_key": "asc"}]}},
            "category_missing": {"missing": {"field": "category_id"}},
            "merchant": {
                "terms": {"field": "merchant.raw", "size": 20, "order": [{"_count": "desc"}, {"_key": "asc"}]}
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
            "pre_tags": ["\ue000"],
            "post_tags": ["\ue001"],
            "fields": {"description": {"number_of_fragments": 0}, "merchant": {"number_of_fragments": 0}},
            "highlight_query": {
                "bool": {
                    "should": [
                        es_bodies.word_clause("star", last=False, fields=["description", "merchant"]),
                        {"wildcard": {"description": {"value": "star*"}}},
                        {"wildcard": {"merchant": {"value": "star*"}}},
                    ]
                }
            },
        },
        "search_after": [2.5, 1, 2, "x"],
    }
    assert "query_string" not in json.dumps(body)


def _row(**overrides):
    row = {
        "id": UUID(int=5), "user_id": UUID(int=6), "family_id": None, "account_id": UUID(int=7),
        "category_id": None, "amount": Decimal("-42.10"), "currency": "EUR", "description": "Café",
        "merchant": "Zürich", "location": {"lat": 47.37, "lng": 8.54, "city": "Zürich"},
        "transaction_date": date(2026, 5, 1), "posted_date": None, "status": "posted",
        "categorization_source": "manual", "categorization_confidence": Decimal("0.9"), "tags": None,
        "notes": None, "receipt_url": None, "external_id": "x1",
        "created_at": datetime(2026, 5, 1, 8, 0, tzinfo=UTC), "updated_at": datetime(2026, 5, 1, 8, 0, tzinfo=UTC),
    }  # fmt: skip
    return {**row, **overrides}


def test_a_transaction_document_keeps_cents_exact_and_maps_the_location():
    doc = es_bodies.transaction_document(_row())
    assert doc["amount"] == "-42.10" and doc["amount_cents"] == -4210 and doc["inflow"] is False
    assert doc["location"] == {"lat": 47.37, "lon": 8.54}
    assert doc["location_raw"] == {"lat": 47.37, "lng": 8.54, "city": "Zürich"}
    assert doc["categorization_confidence"] == "0.90" and doc["tags"] == []
    assert doc["created_at"] == "2026-05-01T08:00:00+00:00" and doc["transaction_date"] == "2026-05-01"
    assert es_bodies.transaction_document(_row(location={"city": "Nowhere"}))["location"] is None
    assert es_bodies.transaction_document(_row(location={"lat": 99, "lon": 0}))["location"] is None
    assert set(doc) == set(es_bodies.TRANSACTIONS_MAPPINGS["properties"])


def test_bulk_lines_carry_the_outbox_id_as_external_version():
    lines = es_bodies.bulk_lines(
        [("index", "ff-transactions", "a", 41, {"id": "a"}), ("delete", "ff-transactions", "b", 42, None)]
    )
    assert lines == [
        {"index": {"_index": "ff-transactions", "_id": "a", "version": 41, "version_type": "external"}},
        {"id": "a"},
        {"delete": {"_index": "ff-transactions", "_id": "b", "version": 42, "version_type": "external"}},
    ]


def test_the_analytics_aggregation_groups_by_category_key_and_sign_with_exact_cents():
    access = Access(user_id=UUID(ME), family_roles={UUID(FAM): Role.viewer})
    body = grouped_body(
        access=access, group="week_period", from_=date(2026, 1, 1), to=date(2026, 3, 31),
        account_id=None, family_id=UUID(FAM), after={"category": None, "key": "2026-01-05", "inflow": True},
    )  # fmt: skip
    assert body == {
        "size": 0,
        "query": {
            "bool": {
                "filter": [
                    es_bodies.scope_filter(ME, [FAM]),
                    {"range": {"transaction_date": {"gte": "2026-01-01", "lte": "2026-03-31"}}},
                    {"term": {"family_id": FAM}},
                ],
                "must_not": [{"term": {"status": "cancelled"}}],
            }
        },
        "aggs": {
            "groups": {
                "composite": {
                    "size": 1000,
                    "sources": [
                        {"category": {"terms": {"field": "category_id", "missing_bucket": True}}},
                        {
                            "key": {
                                "date_histogram": {
                                    "field": "transaction_date",
                                    "calendar_interval": "week",
                                    "format": "yyyy-MM-dd",
                                }
                            }
                        },
                        {"inflow": {"terms": {"field": "inflow"}}},
                    ],
                    "after": {"category": None, "key": "2026-01-05", "inflow": True},
                },
                "aggs": {"cents": {"sum": {"field": "amount_cents"}}},
            }
        },
    }


def test_a_search_response_becomes_the_contract_shape():
    source = es_bodies.transaction_document(_row())
    response = {
        "hits": {
            "total": {"value": 3},
            "hits": [
                {
                    "_source": source,
                    "_score": 4.2,
                    "sort": [4.2, 1, 2, "a"],
                    "highlight": {"merchant": ["\ue000Zürich\ue001 <b>"]},
                },
                {"_source": source, "_score": 1.0, "sort": [1.0, 1, 2, "b"]},
            ],
        },
        "aggregations": {
            "category": {"buckets": [{"key": "c1", "doc_count": 2}]},
            "category_missing": {"doc_count": 1},
            "merchant": {"buckets": [{"key": "Zürich", "doc_count": 3}]},
            "month": {"buckets": [{"key_as_string": "2026-05", "doc_count": 3}]},
        },
    }
    page = parse_response(response, limit=1, category_names={"c1": "Groceries"})
    assert page.total == 3 and page.next_after == [4.2, 1, 2, "a"] and len(page.hits) == 1
    hit = page.hits[0]
    assert hit["highlight"] == {"merchant": ["<em>Zürich</em> &lt;b&gt;"]} and hit["score"] == 4.2
    assert hit["transaction"]["location"] == {"lat": 47.37, "lng": 8.54, "city": "Zürich"}
    assert "amount_cents" not in hit["transaction"] and "inflow" not in hit["transaction"]
    assert page.facets == {
        "category": [{"id": "c1", "name": "Groceries", "count": 2}, {"id": None, "name": None, "count": 1}],
        "merchant": [{"value": "Zürich", "count": 3}],
        "month": [{"value": "2026-05", "count": 3}],
    }


def test_opensearch_gets_flat_object_where_elasticsearch_has_flattened():
    assert es_bodies.index_spec("logs")["mappings"]["properties"]["attributes"] == {"type": "flattened"}
    spec = es_bodies.index_spec("logs", "opensearch")
    assert spec["mappings"]["properties"]["attributes"] == {"type": "flat_object"}
    assert spec["mappings"]["properties"]["error"] == es_bodies.LOGS_MAPPINGS["properties"]["error"]
    assert es_bodies.index_spec("transactions", "opensearch") == es_bodies.INDICES["transactions"]
