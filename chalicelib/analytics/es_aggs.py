"""Spending and cash flow from Elasticsearch aggregations.

One composite aggregation groups the scoped documents by (category, group key,
inflow) with exact cent sums (`amount_cents` is a long); the classification of
repo.py (income, refund, transfer, roll-up to the top category) then runs on those
few buckets with the category tree read from PostgreSQL, so both paths apply the very
same rule to the very same groups and answer identically."""

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg

from chalicelib.analytics import repo
from chalicelib.families.access import Access
from chalicelib.infra import es_client
from chalicelib.search import es_bodies

PAGE = 1000
_KEY_SOURCES = {
    "merchant": {"terms": {"field": "merchant.raw", "missing_bucket": True}},
    "month": {"date_histogram": {"field": "transaction_date", "calendar_interval": "month", "format": "yyyy-MM"}},
    "account": {"terms": {"field": "account_id"}},
    "month_period": {
        "date_histogram": {"field": "transaction_date", "calendar_interval": "month", "format": "yyyy-MM-dd"}
    },
    # Elasticsearch weeks start on Monday, as PostgreSQL's date_trunc('week').
    "week_period": {
        "date_histogram": {"field": "transaction_date", "calendar_interval": "week", "format": "yyyy-MM-dd"}
    },
}


def grouped_body(
    *, access: Access, group: str, from_: date, to: date, account_id: Any, family_id: Any, after: dict | None
) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [
        es_bodies.scope_filter(str(access.user_id), [str(f) for f in access.family_ids]),
        {"range": {"transaction_date": {"gte": from_.isoformat(), "lte": to.isoformat()}}},
    ]
    for field, value in (("account_id", account_id), ("family_id", family_id)):
        if value is not None:
            filters.append({"term": {field: str(value)}})
    sources: list[dict[str, Any]] = [{"category": {"terms": {"field": "category_id", "missing_bucket": True}}}]
    if group in _KEY_SOURCES:
        sources.append({"key": _KEY_SOURCES[group]})
    sources.append({"inflow": {"terms": {"field": "inflow"}}})
    composite: dict[str, Any] = {"size": PAGE, "sources": sources}
    if after is not None:
        composite["after"] = after
    return {
        "size": 0,
        "query": {"bool": {"filter": filters, "must_not": [{"term": {"status": "cancelled"}}]}},
        "aggs": {"groups": {"composite": composite, "aggs": {"cents": {"sum": {"field": "amount_cents"}}}}},
    }


def _buckets(client: Any, **body_args) -> list[dict[str, Any]]:
    buckets, after = [], None
    while True:
        response = client.search(index=es_client.alias("transactions"), **grouped_body(after=after, **body_args))
        response = response.body if hasattr(response, "body") else response
        groups = response["aggregations"]["groups"]
        buckets.extend(groups["buckets"])
        after = groups.get("after_key")
        if not groups["buckets"] or after is None:
            return buckets


def classified(conn: psycopg.Connection, buckets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The buckets as repo.py's `classified` rows."""
    ids = sorted({b["key"]["category"] for b in buckets if b["key"]["category"] is not None})
    roots, income, transfers = repo.category_roots(conn, ids)
    rows = []
    for b in buckets:
        category = b["key"]["category"]
        inflow = b["key"]["inflow"] in (True, 1, "true")
        root = roots.get(category) if category else None
        rows.append(
            {
                "category_id": category,
                "root_id": root,
                "key": b["key"].get("key"),
                "amount": Decimal(round(b["cents"]["value"])) / 100,
                "n": b["doc_count"],
                "is_income": inflow and (category is None or root == income),
                "is_transfer": root is not None and root == transfers,
            }
        )
    return rows


def spending(conn, access: Access, group_by: str, from_: date, to: date, query) -> list[dict[str, Any]]:
    buckets = _buckets(
        es_client.client(), access=access, group=group_by, from_=from_, to=to,
        account_id=query.account_id, family_id=query.family_id,
    )  # fmt: skip
    totals: dict[Any, list] = defaultdict(lambda: [Decimal("0.00"), 0])
    for row in classified(conn, buckets):
        if row["is_income"]:
            continue
        key = {"category": row["category_id"], "top_category": row["root_id"]}.get(group_by, row["key"])
        totals[key][0] -= row["amount"]
        totals[key][1] += row["n"]
    keys = [k for k in totals if k is not None]
    if group_by in ("category", "top_category"):
        labels = {k: repo.HIDDEN_CATEGORY_LABEL for k in keys} | repo.names(conn, access, "categories", keys)
    elif group_by == "account":
        labels = repo.names(conn, access, "accounts", keys)
    else:
        labels = {k: k for k in keys}
    fallback = {"merchant": "No merchant"}.get(group_by, "Uncategorized")
    return [
        {"key": k, "label": labels.get(k, fallback) if k is not None else fallback, "amount": a, "count": n}
        for k, (a, n) in totals.items()
    ]


def cashflow(conn, access: Access, interval: str, from_: date, to: date, query) -> list[dict[str, Any]]:
    buckets = _buckets(
        es_client.client(), access=access, group=f"{interval}_period", from_=from_, to=to,
        account_id=query.account_id, family_id=query.family_id,
    )  # fmt: skip
    periods: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {"income": Decimal("0.00"), "spending": Decimal("0.00")}
    )
    for row in classified(conn, buckets):
        if row["is_transfer"]:
            continue
        if row["is_income"]:
            periods[row["key"]]["income"] += row["amount"]
        else:
            periods[row["key"]]["spending"] -= row["amount"]
    return [{"period_start": date.fromisoformat(k), **v} for k, v in periods.items()]
