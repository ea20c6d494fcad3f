"""Search and analytics on the PostgreSQL engine at 1,000,000 transactions of one user,
and with --cluster on the Elasticsearch engine too (reindex time, search-sync rate).

    .venv/bin/python bench/search.py [--rows 1000000] [--runs 60] [--keep] [--cluster URL --flavour opensearch]
    .venv/bin/python bench/search.py --reuse fiscaflow_bench_search_<pid> [--prepare-threshold 5]
    .venv/bin/python bench/search.py --reuse fiscaflow_bench_search_<pid> --before-after [--runs 40]
    .venv/bin/python bench/search.py --reuse fiscaflow_bench_search_<pid> --explain

Creates its own database (fiscaflow_bench_search_<pid>), migrates it, generates the
rows set-based (merchants skewed like real spending, ~30 % of descriptions carrying a
unique reference number so the typo dictionary is large), then times each query
through the service layer (what the route calls; Redis off, so analytics is never a
cache hit) beside the bare SQL of the same statement, in the same run. Drops the
database at the end unless --keep. --reuse applies pending migrations first.

--before-after (issue 17): each query through the service as the code was before the
postings of sql/1301 (search: the GIN-indexed search_vector, bench/search_before_postings.py,
which this bench gives the database back: the vector filled without triggers and its GIN
index built; analytics: the scan of `transactions`, ANALYTICS_MONTHLY_TOTALS=false) and as
it is now, the two alternating run by run on the same data and connection pool, so load
swings hit both alike.

--write-cost: a 100,000-row INSERT (one statement, the generator's rows) into the same
table with the postings triggers, with them deferred (SET LOCAL fiscaflow.search_deferred)
followed by index_backlog() (rows/s), with the search upkeep of before sql/1301 (the
search_vector row trigger, its GIN index, the search_dictionary statement triggers), and
with no search upkeep at all; each but the deferred one rolled back.

    .venv/bin/python bench/search.py --reuse fiscaflow_bench_search_<pid> --write-cost
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = f"fiscaflow_bench_search_{os.getpid()}"
DB_URL = psycopg.conninfo.make_conninfo(ADMIN_URL, dbname=DB_NAME)

os.environ.update({"DATABASE_URL": DB_URL, "REDIS_URL": "", "LOG_LEVEL": "WARNING", "JWT_SIGNING_KEY": "x" * 48})
os.environ.pop("ELASTICSEARCH_URL", None)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MERCHANTS = [
    "Starbucks", "Tesco", "Amazon", "Shell", "Uber", "Netflix", "Lidl", "Aldi", "Spotify", "Apple",
    "Star Market", "Costa Coffee", "McDonalds", "Ikea", "Zara", "H&M", "Boots", "Deliveroo", "Airbnb", "Ryanair",
]  # fmt: skip
_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "zi", "po"]
MERCHANTS += [
    (_SYLLABLES[i % 10] + _SYLLABLES[i // 10 % 10] + _SYLLABLES[i * 7 % 10]).capitalize()
    + " " + ["Shop", "Market", "Cafe", "Store", "Bar"][i % 5]
    for i in range(20, 200)
]  # fmt: skip
WORDS = [
    "coffee", "groceries", "fuel", "subscription", "lunch", "dinner", "taxi", "rent", "books", "pharmacy",
    "cinema", "parking", "hotel", "flight", "gym", "insurance", "electricity", "water", "internet", "phone",
]  # fmt: skip


def generate(rows: int) -> None:
    from chalicelib.infra.migrations import migrate

    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(DB_NAME)))
    migrate(DB_URL)
    with psycopg.connect(DB_URL, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("SELECT ensure_transaction_partitions((CURRENT_DATE - interval '36 months')::date, CURRENT_DATE)")
        user = conn.execute(
            "INSERT INTO users (email, password_hash) VALUES ('bench@example.com', 'x') RETURNING id"
        ).fetchone()["id"]
        accounts = [
            conn.execute(
                "INSERT INTO accounts (user_id, name, type) VALUES (%s, %s, 'checking') RETURNING id", (user, f"A{i}")
            ).fetchone()["id"]
            for i in range(3)
        ]
        categories = [r["id"] for r in conn.execute("SELECT id FROM categories WHERE parent_id IS NOT NULL")]
        chunk = 100_000
        started = time.monotonic()
        for done in range(0, rows, chunk):
            n = min(chunk, rows - done)
            # Merchants skewed toward the head of the list (random()^1.5: ~3 % for the first), like real spending.
            insert_rows(conn, user=user, accounts=accounts, categories=categories, n=n, offset=done)
            total = done + n
            print(f"  generated {total:>9,} rows  {total / (time.monotonic() - started):,.0f} rows/s", flush=True)
        conn.execute("VACUUM ANALYZE")
        words = conn.execute("SELECT count(*) AS n FROM search_dictionary").fetchone()["n"]
        print(f"  dictionary: {words:,} words", flush=True)


def insert_rows(conn, *, user, accounts, categories, n: int, offset: int) -> None:
    """n generated rows in one INSERT (the statement triggers see one statement)."""
    conn.execute(
        """INSERT INTO transactions (user_id, account_id, category_id, amount, description, merchant,
                                     transaction_date, status, tags, notes)
           SELECT %(user)s, (%(accounts)s::uuid[])[1 + (g %% 3)],
                  CASE WHEN g %% 17 = 0 THEN NULL ELSE (%(cats)s::uuid[])[1 + (g %% %(ncats)s)] END,
                  CASE WHEN g %% 9 = 0 THEN round((random() * 3000)::numeric, 2) + 0.01
                       ELSE -round((random() * 200)::numeric, 2) - 0.01 END,
                  (%(words)s::text[])[1 + (random() * 19)::int] || ' ' || m.name
                    || CASE WHEN random() < 0.3 THEN ' REF' || (g + %(offset)s)::text ELSE '' END,
                  m.name,
                  CURRENT_DATE - (random() * 1090)::int,
                  CASE WHEN g %% 50 = 0 THEN 'cancelled' ELSE 'posted' END,
                  CASE WHEN g %% 7 = 0 THEN ARRAY['work'] END,
                  CASE WHEN g %% 11 = 0 THEN 'shared with family' END
             FROM generate_series(1, %(n)s) AS g
             CROSS JOIN LATERAL (SELECT (%(merchants)s::text[])[1 + floor(power(random(), 1.5) * 200)::int
                                                                  + (g * 0)] AS name) m""",
        {
            "user": user,
            "accounts": accounts,
            "cats": categories,
            "ncats": len(categories),
            "words": WORDS,
            "merchants": MERCHANTS,
            "n": n,
            "offset": offset,
        },
    )


def give_back_search_vector() -> None:
    """The "before" engine's data on the bench database: search_vector filled where sql/1301
    left it NULL (rows written since), without firing any trigger, and its GIN index."""
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        started = time.monotonic()
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
            filled = conn.execute(
                """UPDATE transactions SET search_vector = array_to_tsvector(
                       search_words(description, merchant, notes, array_to_string(tags, ' ')))
                    WHERE search_vector IS NULL"""
            ).rowcount
        conn.execute(
            "CREATE INDEX IF NOT EXISTS bench_transactions_search_vector ON transactions USING gin (search_vector)"
        )
        # ... and the dictionary's trigram index, which its typo lookup read (sql/1302 dropped it).
        conn.execute(
            "CREATE INDEX IF NOT EXISTS bench_search_dictionary_trgm ON search_dictionary USING gin (word gin_trgm_ops)"
        )
        if filled:
            conn.execute("VACUUM ANALYZE transactions")
            conn.execute("VACUUM ANALYZE search_postings")
        print(f"  search_vector for the 'before' engine: {filled:,} rows filled, GIN index ready "
              f"({time.monotonic() - started:.0f}s)", flush=True)  # fmt: skip


# The search upkeep of before sql/1301 (sql/0601, sql/1231), put back inside a rolled-back
# transaction for the "before" write cost.
_OLD_UPKEEP = """
CREATE FUNCTION bench_search_vector() RETURNS TRIGGER AS $$
BEGIN
    NEW.search_vector := array_to_tsvector(array_remove(regexp_split_to_array(
        search_fold(concat_ws(' ', NEW.description, NEW.merchant, NEW.notes, array_to_string(NEW.tags, ' '))),
        '[^[:alnum:]]+'), ''));
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE FUNCTION bench_search_dictionary_add() RETURNS TRIGGER AS $$
BEGIN
    INSERT INTO search_dictionary (word)
    SELECT w FROM (SELECT DISTINCT unnest(tsvector_to_array(search_vector)) AS w FROM new_rows) n
     WHERE NOT EXISTS (SELECT 1 FROM search_dictionary d WHERE d.word = n.w)
     ORDER BY w
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER bench_search_vector_insert BEFORE INSERT ON transactions
    FOR EACH ROW EXECUTE FUNCTION bench_search_vector();
CREATE TRIGGER bench_search_dictionary_insert AFTER INSERT ON transactions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bench_search_dictionary_add();
"""


def measure_write_cost(rows: int, rounds: int) -> list[tuple[str, list[float]]]:
    """Seconds of one `rows`-row INSERT per way of keeping search (see the module doc), and
    the deferred postings' build by index_backlog(), `rounds` times each, interleaved."""
    from chalicelib.search import service as search_service
    from chalicelib.search.models import TransactionSearchQuery
    from chalicelib.search.postings import index_backlog

    coffee = TransactionSearchQuery(q="coffee", limit=50)
    window: list[tuple[float, float]] = []

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, row_factory=dict_row) as conn:
        # The "before" way's GIN index exists only inside its own rolled-back rounds.
        conn.execute("DROP INDEX IF EXISTS bench_transactions_search_vector")
        user = conn.execute("SELECT id FROM users").fetchone()["id"]
        accounts = [r["id"] for r in conn.execute("SELECT id FROM accounts ORDER BY name")]
        categories = [r["id"] for r in conn.execute("SELECT id FROM categories WHERE parent_id IS NOT NULL")]
        offset = conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"] + 10_000_000

        def insert():
            started = time.perf_counter()
            insert_rows(conn, user=user, accounts=accounts, categories=categories, n=rows, offset=offset)
            return time.perf_counter() - started

        def postings():
            with conn.transaction(force_rollback=True):
                return insert()

        def before():
            with conn.transaction(force_rollback=True):
                conn.execute("ALTER TABLE transactions DISABLE TRIGGER transactions_search_postings_insert")
                conn.execute(_OLD_UPKEEP)
                conn.execute("CREATE INDEX bench_transactions_search_vector ON transactions USING gin (search_vector)")
                return insert()

        def none():
            with conn.transaction(force_rollback=True):
                conn.execute("ALTER TABLE transactions DISABLE TRIGGER transactions_search_postings_insert")
                return insert()

        def deferred():
            with conn.transaction():
                conn.execute("SET LOCAL fiscaflow.search_deferred = 'on'")
                written_at = conn.execute("SELECT now() AS t").fetchone()["t"]  # every row's created_at
                seconds = insert()
            # Search while the rows are owed: matched through the heap (repo.owed_matches).
            window.append(timed(lambda: search_service.search_transactions(user_id=user, query=coffee), 3))
            report = index_backlog()
            assert report.rows == rows and report.pending == 0, report
            conn.execute("DELETE FROM transactions WHERE created_at = %s", (written_at,))
            conn.execute("VACUUM search_postings")
            return seconds, report.seconds

        results: dict[str, list[float]] = {}
        for i in range(rounds):
            for label, fn in (
                ("INSERT, postings by the statement triggers (now)", postings),
                ("INSERT, search upkeep before sql/1301 (row trigger, GIN, dictionary)", before),
                ("INSERT, no search upkeep at all", none),
            ):
                results.setdefault(label, []).append(fn())
            insert_s, build_s = deferred()
            results.setdefault("INSERT, deferred (SET LOCAL fiscaflow.search_deferred)", []).append(insert_s)
            results.setdefault("  then index_backlog() for those rows", []).append(build_s)
            print(f"  round {i + 1}: done (load {load_average()})", flush=True)
    for p50, p99 in window:
        print(f"  search 'coffee' while {rows:,} rows are owed: p50 {p50:.0f} ms, max {p99:.0f} ms (3 runs)")
    return list(results.items())


def _p50_p99(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.99 * len(samples)) - 1)]


def timed_pair(before, after, runs: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Both warmed, then alternated run by run: (p50, p99) of each."""
    before(), after()
    samples: tuple[list[float], list[float]] = ([], [])
    for i in range(runs):
        for which, fn in ((0, before), (1, after)) if i % 2 == 0 else ((1, after), (0, before)):
            started = time.perf_counter()
            fn()
            samples[which].append((time.perf_counter() - started) * 1000)
    return _p50_p99(samples[0]), _p50_p99(samples[1])


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


SHAPES = (
    ("common word (tesco)", "tesco"),
    ("frequent word (coffee)", "coffee"),
    ("prefix (star)", "star"),
    ("typo (amazom)", "amazom"),
    ("two words + facets (coffee starbucks)", "coffee starbucks"),
    ("rare word (ref4242)", "ref4242"),
)


def measure_before_after(runs: int) -> list[tuple]:
    """(label, rows matched, before p50/p99, after p50/p99) per query, alternating."""
    from bench import search_before_postings
    from chalicelib.analytics import service as analytics_service
    from chalicelib.analytics.models import SpendingQuery
    from chalicelib.infra import db
    from chalicelib.infra.settings import get_settings
    from chalicelib.search import pg_engine
    from chalicelib.search import service as search_service
    from chalicelib.search.models import TransactionSearchQuery

    give_back_search_vector()
    with db.transaction() as conn:
        user = conn.execute("SELECT id FROM users").fetchone()["id"]
    current = pg_engine.build_search
    old = search_before_postings.build_search

    def with_statement(code, query):
        pg_engine.build_search = code
        try:
            return search_service.search_transactions(user_id=user, query=query)
        finally:
            pg_engine.build_search = current

    results = []
    for label, q in SHAPES:
        query = TransactionSearchQuery(q=q, limit=50)
        answers = [with_statement(b, query).model_dump(mode="json") for b in (old, current)]
        assert answers[0] == answers[1], f"{q}: the two statements disagree"
        before, after = timed_pair(
            lambda query=query: with_statement(old, query), lambda query=query: with_statement(current, query), runs
        )
        results.append((label, answers[1]["total"], before, after))
        print(f"  {label}: done (load {load_average()})", flush=True)

    spending = SpendingQuery(group_by="top_category")

    def spending_with(totals: bool):
        os.environ["ANALYTICS_MONTHLY_TOTALS"] = "true" if totals else "false"
        get_settings.cache_clear()
        return analytics_service.spending(user_id=user, query=spending)

    answers = [spending_with(False), spending_with(True)]
    assert answers[0] == answers[1], "analytics: the roll-up and the scan disagree"
    before, after = timed_pair(lambda: spending_with(False), lambda: spending_with(True), runs)
    label = "/analytics/spending?group_by=top_category, 12 months"
    results.append((label, sum(i["count"] for i in answers[1]["items"]), before, after))
    return results


def explain_before_after() -> list[tuple]:
    """EXPLAIN (ANALYZE, BUFFERS) of each search statement before issue 17 and now:
    (label, which, planning ms, execution ms, shared hit, shared read, temp read)."""
    import json

    from bench import search_before_postings
    from chalicelib.families.access import load_access
    from chalicelib.infra import db
    from chalicelib.search import pg_engine
    from chalicelib.search.engine import Filters, SearchRequest

    give_back_search_vector()
    rows = []
    for label, q in SHAPES:
        for which, build in (("before", search_before_postings.build_search), ("after", pg_engine.build_search)):
            with db.transaction() as conn:
                conn.execute("SELECT set_config('work_mem', %s, true)", (pg_engine.SEARCH_WORK_MEM,))
                access = load_access(conn, conn.execute("SELECT id FROM users").fetchone()["id"])
                request = SearchRequest(access=access, q=q, filters=Filters(), limit=50, after=None)
                _, statement, params = build(conn, request)
                plan = conn.execute(
                    psycopg.sql.SQL("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ") + statement, params
                ).fetchone()
                top = (json.loads(plan["QUERY PLAN"]) if isinstance(plan["QUERY PLAN"], str) else plan["QUERY PLAN"])[0]
                node = top["Plan"]
                rows.append(
                    (label, which, top["Planning Time"], top["Execution Time"],
                     node["Shared Hit Blocks"], node["Shared Read Blocks"], node["Temp Read Blocks"])
                )  # fmt: skip
    return rows


def timed(fn, runs: int) -> tuple[float, float]:
    fn()  # warm
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.99 * len(samples)) - 1)]


def measure(runs: int) -> list[tuple[str, int, tuple[float, float], tuple[float, float]]]:
    from chalicelib.analytics import repo as analytics_repo
    from chalicelib.analytics import service as analytics_service
    from chalicelib.analytics.models import SpendingQuery
    from chalicelib.families.access import load_access
    from chalicelib.infra import db
    from chalicelib.search import pg_engine
    from chalicelib.search import service as search_service
    from chalicelib.search.engine import Filters, SearchRequest
    from chalicelib.search.models import TransactionSearchQuery

    with db.transaction() as conn:
        user = conn.execute("SELECT id FROM users").fetchone()["id"]
        access = load_access(conn, user)
    results = []
    for label, q in SHAPES:
        query = TransactionSearchQuery(q=q, limit=50)
        total = search_service.search_transactions(user_id=user, query=query).total

        def bare(q=q):
            with db.transaction() as conn:
                request = SearchRequest(access=access, q=q, filters=Filters(), limit=50, after=None)
                _, statement, params = pg_engine.build_search(conn, request)
                conn.execute(statement, params).fetchone()

        service_ms = timed(lambda query=query: search_service.search_transactions(user_id=user, query=query), runs)
        results.append((label, total, service_ms, timed(bare, runs)))

    spending = SpendingQuery(group_by="top_category")

    def bare_spending():
        with db.transaction() as conn:
            from chalicelib.analytics import periods
            from chalicelib.core.dates import local_today

            from_, to = periods.resolve_range(None, None, today=local_today("UTC"))
            where, params = analytics_repo.scope_conditions(access, from_=from_, to=to, account_id=None, family_id=None)
            analytics_repo.spending(conn, access, group_by="top_category", where=where, params=params)

    answer = analytics_service.spending(user_id=user, query=spending)
    results.append(
        (
            "/analytics/spending?group_by=top_category, 12 months",
            sum(i["count"] for i in answer["items"]),
            timed(lambda: analytics_service.spending(user_id=user, query=spending), runs),
            timed(bare_spending, runs),
        )
    )
    return results


def measure_cluster(runs: int, url: str, flavour: str) -> list[tuple]:
    """The same query shapes on the cluster: reindex the 1M rows (timed), then each search
    through the service (engine must say "elasticsearch") beside the bare cluster request,
    spending from aggregations (no silent SQL fallback), and search-sync's indexing rate."""
    from chalicelib.analytics import es_aggs
    from chalicelib.analytics import service as analytics_service
    from chalicelib.analytics.models import SpendingQuery
    from chalicelib.families.access import load_access
    from chalicelib.infra import db, es_client
    from chalicelib.infra.settings import get_settings
    from chalicelib.search import es_bodies, indices
    from chalicelib.search import service as search_service
    from chalicelib.search.engine import Filters
    from chalicelib.search.models import TransactionSearchQuery
    from chalicelib.search.sync import run_search_sync
    from chalicelib.search.text import query_words

    os.environ.update(
        {"ELASTICSEARCH_URL": url, "SEARCH_FLAVOUR": flavour, "ELASTICSEARCH_INDEX_PREFIX": f"bench-{os.getpid()}"}
    )
    os.environ["ELASTICSEARCH_TIMEOUT_SECONDS"] = "120"
    get_settings.cache_clear()
    es_client.reset()
    client = es_client.client()
    indices.init()
    started = time.monotonic()
    report = indices.reindex()
    reindex_s = time.monotonic() - started
    print(f"  reindex: {report.documents} in {reindex_s:.0f}s", flush=True)
    client.indices.forcemerge(index=es_client.alias("transactions"), max_num_segments=1, request_timeout=600)
    with db.transaction() as conn:
        user = conn.execute("SELECT id FROM users").fetchone()["id"]
        access = load_access(conn, user)
    results = []
    try:
        for label, q in (
            ("common word (tesco)", "tesco"),
            ("frequent word (coffee)", "coffee"),
            ("prefix (star)", "star"),
            ("typo (amazom)", "amazom"),
            ("two words + facets (coffee starbucks)", "coffee starbucks"),
        ):
            query = TransactionSearchQuery(q=q, limit=50)
            page = search_service.search_transactions(user_id=user, query=query)
            assert page.engine == "elasticsearch", page.engine
            body = es_bodies.transaction_search(
                words=query_words(q), user_id=str(user), family_ids=[str(f) for f in access.family_ids],
                filters=Filters(), size=51, search_after=None,
            )  # fmt: skip

            def bare(body=body):
                client.search(index=es_client.alias("transactions"), **body)

            service_ms = timed(lambda query=query: search_service.search_transactions(user_id=user, query=query), runs)
            results.append((label, page.total, service_ms, timed(bare, runs)))
        spending = SpendingQuery(group_by="top_category")
        analytics_service._es_or_none = lambda compute: compute()  # a cluster failure must show, not fall back
        answer = analytics_service.spending(user_id=user, query=spending)
        from chalicelib.analytics import periods
        from chalicelib.core.dates import local_today

        from_, to = periods.resolve_range(None, None, today=local_today("UTC"))

        def bare_spending():
            es_aggs._buckets(
                client, access=access, group="top_category", from_=from_, to=to, account_id=None, family_id=None
            )

        results.append(
            (
                "/analytics/spending?group_by=top_category, 12 months",
                sum(i["count"] for i in answer["items"]),
                timed(lambda: analytics_service.spending(user_id=user, query=spending), runs),
                timed(bare_spending, runs),
            )
        )
        # A size-0 aggregation is answered from the shard request cache until the next
        # refresh that changes the index: time it with that cache off too.
        from chalicelib.analytics.es_aggs import grouped_body

        uncached = grouped_body(
            access=access, group="top_category", from_=from_, to=to, account_id=None, family_id=None, after=None
        )
        raw = getattr(client, "_client", client)

        def bare_uncached():
            if flavour == "opensearch":
                raw.search(index=es_client.alias("transactions"), body=uncached, params={"request_cache": "false"})
            else:
                client.search(index=es_client.alias("transactions"), request_cache=False, **uncached)

        results.append(("  same, bare with the request cache off", 0, (0.0, 0.0), timed(bare_uncached, runs)))
        with db.transaction() as conn:
            conn.execute(
                """INSERT INTO outbox (aggregate_type, aggregate_id, operation)
                   SELECT 'transaction', id, 'upsert' FROM transactions LIMIT 50000"""
            )
        started = time.monotonic()
        drained = 0
        while True:
            sync = run_search_sync(batch_size=500, time_budget=600)
            drained += sync.indexed
            if sync.pending == 0 or sync.error:
                break
        rate = drained / (time.monotonic() - started)
        print(f"  search-sync: {drained:,} documents at {rate:,.0f}/s (error: {sync.error})", flush=True)
    finally:
        client.indices.delete(index=f"bench-{os.getpid()}-*")
    return results


def main() -> int:
    from bench.plans import add_prepare_threshold, prepare_after

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", metavar="DATABASE", help="time a database kept by an earlier --keep run")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS) each search, before/after")
    parser.add_argument(
        "--before-after", action="store_true", help="the code before issue 17 and now, alternating (see above)"
    )
    parser.add_argument("--write-cost", action="store_true", help="a 100k-row INSERT per way of keeping search")
    parser.add_argument("--cluster", metavar="URL", help="also time the Elasticsearch engine on this cluster")
    parser.add_argument(
        "--flavour", default="elasticsearch", help="SEARCH_FLAVOUR of --cluster (opensearch: the local node)"
    )
    add_prepare_threshold(parser)
    args = parser.parse_args()
    name = args.reuse or DB_NAME
    if args.reuse:
        os.environ["DATABASE_URL"] = psycopg.conninfo.make_conninfo(ADMIN_URL, dbname=name)
        from chalicelib.infra.migrations import migrate

        started = time.monotonic()
        applied = migrate(os.environ["DATABASE_URL"])
        print(f"migrations applied: {applied or 'none'} ({time.monotonic() - started:.1f}s)", flush=True)
    prepare_after(args.prepare_threshold)
    try:
        if not args.reuse:
            print(f"database {name}: generating {args.rows:,} transactions", flush=True)
            started = time.monotonic()
            generate(args.rows)
            print(f"  generated in {time.monotonic() - started:.0f}s", flush=True)
        if args.explain:
            print(f"load average: {load_average()}")
            print("\n| query | code | planning ms | execution ms | shared hit | shared read | temp read |")
            print("|---|---|---:|---:|---:|---:|---:|")
            for label, which, plan_ms, exec_ms, hit, read, temp in explain_before_after():
                print(f"| {label} | {which} | {plan_ms:.1f} | {exec_ms:.1f} | {hit:,} | {read:,} | {temp:,} |")
            return 0
        if args.write_cost:
            print(f"load average before: {load_average()}", flush=True)
            results = measure_write_cost(100_000, 3)
            print(f"load average after: {load_average()}")
            print("\n| 100,000 rows, one statement | seconds (median of 3) | rows/s |\n|---|---:|---:|")
            for label, seconds in results:
                median = statistics.median(seconds)
                print(f"| {label} | {median:.2f} | {100_000 / median:,.0f} |", flush=True)
            return 0
        if args.before_after:
            print(f"load average before: {load_average()}", flush=True)
            rows = measure_before_after(args.runs)
            print(f"load average after: {load_average()}")
            print("\n| query | rows matched | before p50 / p99 ms | after p50 / p99 ms |\n|---|---:|---:|---:|")
            for label, total, (s50, s99), (b50, b99) in rows:
                print(f"| {label} | {total:,} | {s50:.1f} / {s99:.1f} | {b50:.1f} / {b99:.1f} |", flush=True)
            return 0
        print("\n| query | rows matched | service p50 / p99 ms | bare SQL p50 / p99 ms |\n|---|---:|---:|---:|")
        for label, total, (s50, s99), (b50, b99) in measure(args.runs):
            print(f"| {label} | {total:,} | {s50:.1f} / {s99:.1f} | {b50:.1f} / {b99:.1f} |", flush=True)
        if args.cluster:
            print(f"\ncluster {args.cluster} ({args.flavour})", flush=True)
            print("\n| query | rows matched | service p50 / p99 ms | bare cluster p50 / p99 ms |\n|---|---:|---:|---:|")
            for label, total, (s50, s99), (b50, b99) in measure_cluster(args.runs, args.cluster, args.flavour):
                print(f"| {label} | {total:,} | {s50:.1f} / {s99:.1f} | {b50:.1f} / {b99:.1f} |", flush=True)
    finally:
        from chalicelib.infra import db

        db.close_pool()
        if not args.keep and not args.reuse:
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(
                    psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(DB_NAME))
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
