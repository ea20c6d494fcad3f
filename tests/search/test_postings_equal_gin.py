"""The postings engine (sql/1301) answers exactly as the GIN engine it replaced
(bench/search_before_postings.py, the code of main before it): random rows over a small
vocabulary of shared prefixes and one-edit neighbours, random queries and filters, the
same total, facets and page, for a person with a family, through both builders."""

import importlib.util
import json
import pathlib
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from chalicelib.families.access import load_access
from chalicelib.infra import db
from chalicelib.search import pg_engine
from chalicelib.search.engine import Filters, SearchRequest
from tests.factories import default_category, make_account, make_family, make_transaction

_BEFORE = pathlib.Path(__file__).resolve().parents[2] / "bench" / "search_before_postings.py"
VOCABULARY = ["star", "stars", "start", "starbucks", "stark", "coffee", "cofee", "toffee", "amazon", "amazom",
              "tesco", "tesla", "café", "cafe", "zürich", "zurich", "ref12345", "ref12346"]  # fmt: skip


def _before():
    spec = importlib.util.spec_from_file_location("search_before_postings", _BEFORE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _answer(build, request) -> str:
    with db.transaction() as conn:
        built = build(conn, request)
        if built is None:
            return "none"
        _, statement, params = built
        row = conn.execute(statement, params).fetchone()
        facets = {k: sorted(row[k], key=json.dumps) for k in ("category", "merchant", "month")}
        return json.dumps({"total": row["total"], "facets": facets, "page": row["page"]}, sort_keys=True, default=str)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_postings_engine_answers_as_the_gin_engine(conn, make_user, seed):
    rng = random.Random(seed)
    me, partner, stranger = make_user(), make_user(), make_user()
    family = make_family(conn, me["id"], members={partner["id"]: "member"})
    accounts = [make_account(conn, me["id"]), make_account(conn, partner["id"], family_id=family),
                make_account(conn, stranger["id"]), make_account(conn, partner["id"])]  # fmt: skip
    categories = [
        default_category(conn, "Groceries", "Food & Dining"),
        default_category(conn, "Coffee Shops", "Food & Dining"),
        None,
    ]
    for _ in range(160):
        account = rng.choice(accounts)
        owner = {accounts[0]: me, accounts[1]: partner, accounts[2]: stranger, accounts[3]: partner}[account]
        make_transaction(
            conn, owner["id"], account, Decimal(rng.choice(["-5.00", "-12.50", "40.00"])),
            day=date.today() - timedelta(days=rng.randrange(0, 70)),
            description=" ".join(rng.choice(VOCABULARY) for _ in range(rng.randrange(1, 4))),
            merchant=rng.choice([None, "Star Market", "Tesco", "Café Zürich"]),
            category_id=rng.choice(categories), status=rng.choice(["posted", "pending"]),
            tags=rng.choice([None, ["work"], ["stark", "x"]]), notes=rng.choice([None, "coffee with Starla"]),
        )  # fmt: skip
    # The GIN engine reads search_vector, which sql/1301 no longer maintains: fill it, no trigger fired.
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute(
            """UPDATE transactions SET search_vector = array_to_tsvector(
                   search_words(description, merchant, notes, array_to_string(tags, ' ')))"""
        )
    before = _before().build_search
    with db.transaction() as c:
        access = load_access(c, me["id"])
    filters = [Filters(), Filters(family_id=family), Filters(category_id=categories[0]),
               Filters(min_amount=Decimal("-6"), status="posted"), Filters(merchant="star market"),
               Filters(tag="work", from_=date.today() - timedelta(days=30))]  # fmt: skip
    matched = 0
    for _ in range(70):
        words = [rng.choice(VOCABULARY) for _ in range(rng.randrange(1, 3))]
        q = " ".join(w[: rng.randrange(1, len(w) + 1)] if rng.random() < 0.3 else w for w in words)
        request = SearchRequest(access=access, q=q, filters=rng.choice(filters), limit=rng.choice([3, 50]), after=None)
        answer = _answer(pg_engine.build_search, request)
        assert answer == _answer(before, request), q
        matched += answer != "none" and json.loads(answer)["total"] > 0
    assert matched >= 30  # the comparison is over real answers, not empty ones
