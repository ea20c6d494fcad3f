"""Search use cases: scope the caller, pick the engine, shape the answer."""

from uuid import UUID

import psycopg

from chalicelib.errors import NotFound, ServiceUnavailable
from chalicelib.families.access import READ, Access, load_access
from chalicelib.infra import db, es_client
from chalicelib.infra.logging import logger
from chalicelib.search import categories, repo
from chalicelib.search.engine import (
    Engine,
    Filters,
    SearchPage,
    SearchRequest,
    decode_cursor,
    encode_cursor,
    get_engine,
)
from chalicelib.search.models import (
    CategorySearchQuery,
    CategorySearchResult,
    TransactionSearchQuery,
    TransactionSearchResult,
)


def resolve_scope(
    conn: psycopg.Connection, *, user_id: UUID, account_id: UUID | None, family_id: UUID | None
) -> Access:
    """The caller's access, with an account or family filter they may not read → 404."""
    access = load_access(conn, user_id)
    if family_id is not None:
        access.require_family(family_id, READ)
    if account_id is not None:
        account = repo.account_owner(conn, account_id)
        if account is None:
            raise NotFound("Account not found")
        access.authorize(owner_id=account["user_id"], family_id=account["family_id"], what="Account")
    return access


def search_transactions(*, user_id: UUID, query: TransactionSearchQuery) -> TransactionSearchResult:
    """Full-text search over the transactions the caller may read."""
    engine = get_engine()
    after = decode_cursor(engine.name, query.cursor)
    with db.transaction() as conn:
        access = resolve_scope(conn, user_id=user_id, account_id=query.account_id, family_id=query.family_id)
    request = SearchRequest(
        access=access,
        q=query.q,
        filters=Filters(
            account_id=query.account_id,
            category_id=query.category_id,
            family_id=query.family_id,
            from_=query.from_,
            to=query.to,
            min_amount=query.min_amount,
            max_amount=query.max_amount,
            status=query.status,
            tag=query.tag,
            merchant=query.merchant,
        ),
        limit=query.limit,
        after=after,
    )
    page = _search_with_fallback(engine, request)
    return TransactionSearchResult(
        items=page.hits,
        facets=page.facets,
        total=page.total,
        next_cursor=encode_cursor(engine.name, page.next_after),
        engine=page.engine,
    )


def _search_with_fallback(engine: Engine, request: SearchRequest) -> SearchPage:
    """ARCHITECTURE.md: with Elasticsearch down, search answers from PostgreSQL (the
    response's `engine` says which one did). A cursor belongs to one engine's order, so
    a next page requested while the cluster is down cannot be served."""
    if engine.name != "elasticsearch":
        return engine.search_transactions(request)
    try:
        return engine.search_transactions(request)
    except es_client.unavailable_errors() as exc:
        logger.warning("elasticsearch search failed, answering from PostgreSQL", extra={"error": type(exc).__name__})
        if request.after is not None:
            raise ServiceUnavailable("Search is temporarily unavailable; retry without the cursor") from exc
        from chalicelib.search.pg_engine import PostgresEngine

        return PostgresEngine().search_transactions(request)


def search_categories(*, user_id: UUID, query: CategorySearchQuery) -> CategorySearchResult:
    """Categories the caller can use (defaults, own, families') matching the query."""
    with db.transaction() as conn:
        access = load_access(conn, user_id)
        return CategorySearchResult(items=categories.search(conn, access=access, q=query.q))
