"""What only a real search cluster shows: the seed's fields as indexed (location as a
geo_point), analytics answered by aggregations to the cent, the logs index receiving
structured log lines, and `search reindex` swapping aliases while searches answer."""

import json
import logging
import threading
import time
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from chalicelib.infra import es_client, log_shipping
from chalicelib.search import indices
from tests import factories
from tests.search.conftest import search


def _count(kind: str = "transactions") -> int:
    return es_client.client().count(index=es_client.alias(kind))["count"]


def test_location_is_a_geo_point_and_comes_back_as_its_json(cluster, conn, make_user, ledger, client):
    user = make_user()
    account = factories.make_account(conn, user["id"])
    near = ledger.add(user, account, description="Lunch near the lake")
    far = ledger.add(user, account, description="Lunch in Paris")
    conn.execute(
        """UPDATE transactions SET location = '{"lat": 47.37, "lng": 8.54, "city": "Zürich"}' WHERE id = %s""", (near,)
    )
    conn.execute("""UPDATE transactions SET location = '{"lat": 48.85, "lon": 2.35}' WHERE id = %s""", (far,))
    from chalicelib.infra import outbox

    outbox.record_changes(conn, aggregate_type="transaction", ids=[near, far])
    cluster.settle()

    mapping = es_client.client().indices.get_mapping(index=es_client.alias("transactions"))
    (index_mapping,) = mapping.values()
    assert index_mapping["mappings"]["properties"]["location"] == {"type": "geo_point"}
    within = es_client.client().search(
        index=es_client.alias("transactions"),
        query={"geo_distance": {"distance": "20km", "location": {"lat": 47.4, "lon": 8.5}}},
    )
    assert [h["_id"] for h in within["hits"]["hits"]] == [str(near)]
    status, body = search(client, user, "lunch lake")
    assert status == 200
    assert body["items"][0]["transaction"]["location"] == {"lat": 47.37, "lng": 8.54, "city": "Zürich"}


def _analytics(client, user, path, **params):
    response = client.http.get(f"{path}?{urlencode(params)}", headers=user["headers"])
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def test_analytics_from_aggregations_equal_the_sql_answer_to_the_cent(
    cluster, conn, make_user, client, monkeypatch, redis_clean
):
    import random

    from chalicelib.analytics import service
    from chalicelib.infra import cache

    user = make_user()
    accounts = [factories.make_account(conn, user["id"], name=f"A{i}") for i in range(2)]
    leaves = [
        factories.default_category(conn, "Groceries", "Food & Dining"),
        factories.default_category(conn, "Salary", "Income"),
    ]
    rng = random.Random(3)
    for _ in range(300):
        factories.make_transaction(
            conn, user["id"], rng.choice(accounts), Decimal(rng.randint(-90_000, 40_000)) / 100,
            day=date(2025, 1, 1) + timedelta(days=rng.randint(0, 500)),
            category_id=rng.choice([*leaves, None]), merchant=rng.choice(["Tesco", None, "Shell"]),
            status=rng.choice(["posted", "pending", "cancelled"]),
        )  # fmt: skip
    indices.reindex()
    questions = [
        ("/analytics/spending", {"group_by": g}) for g in ("category", "top_category", "merchant", "month", "account")
    ]
    questions += [("/analytics/cashflow", {"interval": i}) for i in ("month", "week")]
    span = {"from": "2025-01-01", "to": "2026-06-30"}

    def answers():
        out = []
        for path, params in questions:
            out.append(_analytics(client, user, path, **params, **span))
            for key in redis_clean.scan_iter(match="*analytics*"):  # each answer computed, not cached
                redis_clean.delete(key)
            cache.reset()
        return out

    # The cluster path must answer by itself: a failure here must not fall back to SQL unseen.
    monkeypatch.setattr(service, "_es_or_none", lambda compute: compute())
    on_cluster = answers()
    monkeypatch.delenv("ELASTICSEARCH_URL")
    from chalicelib.infra.settings import get_settings

    get_settings.cache_clear()
    on_sql = answers()
    assert on_cluster == on_sql
    assert all(a.get("items") or a.get("periods") for a in on_cluster), on_cluster


def test_log_lines_reach_the_logs_index(cluster):
    shipper = log_shipping.LogShipper(log_shipping._send_to_logs_index, flush_seconds=0.1)
    logger = logging.getLogger("fiscaflow.test-log-shipping")
    logger.addHandler(shipper)
    logger.setLevel(logging.INFO)
    try:
        logger.info("import finished", extra={"user_id": "u-1", "rows": 12, "nested": {"a": 1}})
        try:
            raise ValueError("bad row")
        except ValueError:
            logger.exception("import failed")
        deadline_checks = 100
        while deadline_checks and _count_logs() < 2:
            threading.Event().wait(0.1)
            deadline_checks -= 1
    finally:
        logger.removeHandler(shipper)
    assert shipper.failed_batches == 0 and shipper.dropped == 0
    hits = es_client.client().search(
        index=es_client.alias("logs"), query={"match": {"message": "import"}}, sort=[{"timestamp": "asc"}]
    )
    docs = [h["_source"] for h in hits["hits"]["hits"]]
    assert [d["message"] for d in docs] == ["import finished", "import failed"]
    assert docs[0]["user_id"] == "u-1" and docs[0]["attributes"]["rows"] == 12
    assert docs[1]["error"]["type"] == "ValueError" and docs[1]["level"] == "ERROR"
    by_attribute = es_client.client().search(index=es_client.alias("logs"), query={"term": {"attributes.rows": 12}})
    assert by_attribute["hits"]["total"]["value"] == 1


def _count_logs() -> int:
    es_client.client().indices.refresh(index=es_client.alias("logs"))
    return _count("logs")


def test_reindex_swaps_the_alias_while_searches_keep_answering(cluster, conn, make_user, ledger, client):
    user = make_user()
    account = factories.make_account(conn, user["id"])
    for i in range(300):
        ledger.add(user, account, description=f"Coffee {i}")
    cluster.settle()
    alias = es_client.alias("transactions")
    (before,) = es_client.client().indices.get_alias(name=alias)

    answers, stop = [], threading.Event()

    def keep_searching():
        while not stop.is_set():
            status, body = search(client, user, "coffee", limit=1)
            answers.append((status, body.get("total"), body.get("engine")))
            # A client's pace, not a flood: the reindex waits out the client timeout before it
            # drops the old index, and 600 searches a minute is the per-user rate limit.
            time.sleep(0.05)

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    try:
        report = indices.reindex(client=None)
    finally:
        stop.set()
        searcher.join()

    (after,) = es_client.client().indices.get_alias(name=alias)
    assert after != before and before in report.removed and report.documents["transactions"] == 300
    assert not es_client.client().indices.exists(index=before)
    assert answers and all(a == (200, 300, "elasticsearch") for a in answers), set(answers)
    assert search(client, user, "coffee")[1]["total"] == 300


@pytest.mark.parametrize("kind", ["transactions", "categories", "logs"])
def test_the_three_indices_are_behind_their_aliases(cluster, kind):
    aliases = es_client.client().indices.get_alias(name=es_client.alias(kind))
    (name,) = aliases
    assert (
        name.startswith(f"{es_client.alias(kind)}-")
        and aliases[name]["aliases"][es_client.alias(kind)]["is_write_index"]
    )


def test_an_imports_transaction_set_reaches_the_cluster_each_row_versioned_by_its_entry(cluster, conn, make_user):
    from uuid import uuid4

    from psycopg import sql

    from chalicelib.infra import outbox
    from chalicelib.search import sync

    user = make_user()
    account = factories.make_account(conn, user["id"])
    ids = [factories.make_transaction(conn, user["id"], account, "-1.00", description=f"Set {i}") for i in range(7)]
    set_id = conn.execute(
        sql.SQL("WITH inserted AS (SELECT unnest(%s::uuid[]) AS id) {} RETURNING id").format(
            outbox.set_upsert_of(sql.Identifier("inserted"), set_id=sql.Literal(str(uuid4())))
        ),
        (ids,),
    ).fetchone()["id"]

    report = sync.run_search_sync(batch_size=3)  # three batches: 3 + 3 + 1 documents
    es_client.client().indices.refresh(index=es_client.alias("transactions"))

    assert report.error is None and report.indexed == 7 and report.batches == 3 and report.pending == 0
    for tx_id in ids:
        doc = es_client.client().get(index=es_client.alias("transactions"), id=str(tx_id))
        assert doc["_version"] == set_id
