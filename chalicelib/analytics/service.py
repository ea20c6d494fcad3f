"""Analytics use cases: spending, cash flow and net worth for the caller's scope.

SQL answers always; with Elasticsearch configured, spending and cash flow come from
its aggregations (net worth needs account balances, which only PostgreSQL holds) and
fall back to SQL when the cluster does not answer. Answers go through the API
response cache (core/caching.py, area `analytics`): a write bumps the generation of
everyone who can see it, so the next call recomputes."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from chalicelib.analytics import periods, repo, totals_repo
from chalicelib.analytics.models import (
    CashflowQuery,
    CashflowResult,
    NetWorthQuery,
    NetWorthResult,
    SpendingQuery,
    SpendingResult,
)
from chalicelib.core import caching, dates
from chalicelib.families.access import Access
from chalicelib.infra import db, es_client
from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings
from chalicelib.search.service import resolve_scope

CACHE_TTL_SECONDS = caching.DEFAULT_TTL_SECONDS
# An Elasticsearch answer may predate writes still in the outbox (up to a minute under
# the search-sync schedule): keep it no longer than that.
ES_CACHE_TTL_SECONDS = 60
ZERO = Decimal("0.00")


def _cached(user_id: UUID, route: str, params: dict[str, Any], compute: Callable[[], tuple[dict, str]]) -> dict:
    engines: list[str] = []

    def answer() -> dict:
        result, engine = compute()
        engines.append(engine)
        return result

    return caching.read_through(
        "analytics",
        user_id=user_id,
        params=[route, params],
        compute=answer,
        ttl_seconds=lambda: CACHE_TTL_SECONDS if engines == ["postgres"] else ES_CACHE_TTL_SECONDS,
    )


def _es_or_none(compute: Callable[[], Any]) -> Any:
    if not get_settings().elasticsearch_url:
        return None
    try:
        return compute()
    except es_client.unavailable_errors() as exc:  # the cluster is an accelerator: SQL answers the same question
        logger.warning("elasticsearch analytics failed, answering from SQL", extra={"error": type(exc).__name__})
        return None


def _prepare(conn, user_id: UUID, query) -> tuple[Any, str, Any, Any]:
    access = resolve_scope(conn, user_id=user_id, account_id=query.account_id, family_id=query.family_id)
    timezone = dates.user_timezone(conn, user_id)
    from_, to = periods.resolve_range(query.from_, query.to, today=dates.local_today(timezone))
    return access, timezone, from_, to


def spending(*, user_id: UUID, query: SpendingQuery) -> dict:
    """Spending grouped by category, top-level category, merchant, month or account."""
    with db.transaction() as conn:
        access, _, from_, to = _prepare(conn, user_id, query)

        def compute() -> tuple[dict, str]:
            where, params = repo.scope_conditions(
                access, from_=from_, to=to, account_id=query.account_id, family_id=query.family_id
            )
            rows, engine = _es_or_none(lambda: _es().spending(conn, access, query.group_by, from_, to, query)), "es"
            if rows is None:
                first_pass = _first_pass(access, query.group_by, from_, to, query, where, params)
                rows, engine = repo.spending(conn, access, group_by=query.group_by, **first_pass), "postgres"
            if query.group_by == "month":
                rows.sort(key=lambda r: r["key"])
            else:
                rows.sort(key=lambda r: (-r["amount"], r["key"] is None, r["key"] or ""))
            result = SpendingResult(
                from_=from_, to=to, group_by=query.group_by, total=sum((r["amount"] for r in rows), ZERO), items=rows
            )
            return result.model_dump(mode="json", by_alias=True), engine

        params = {"from": from_, "to": to, "group_by": query.group_by, **_filters(query)}
        return _cached(user_id, "spending", params, compute)


def cashflow(*, user_id: UUID, query: CashflowQuery) -> dict:
    """Income, expenses and net per month or week, transfers excluded."""
    with db.transaction() as conn:
        access, _, from_, to = _prepare(conn, user_id, query)

        def compute() -> tuple[dict, str]:
            where, params = repo.scope_conditions(
                access, from_=from_, to=to, account_id=query.account_id, family_id=query.family_id
            )
            rows, engine = _es_or_none(lambda: _es().cashflow(conn, access, query.interval, from_, to, query)), "es"
            if rows is None:
                first_pass = _first_pass(access, f"{query.interval}_period", from_, to, query, where, params)
                rows, engine = repo.cashflow(conn, interval=query.interval, **first_pass), "postgres"
            items = []
            for r in sorted(rows, key=lambda r: r["period_start"]):
                # Refunds can outweigh outflows in a period; expenses are never negative.
                expenses = max(r["spending"], ZERO)
                items.append(
                    {
                        "period_start": r["period_start"],
                        "income": r["income"],
                        "expenses": expenses,
                        "net": r["income"] - expenses,
                    }
                )
            result = CashflowResult(from_=from_, to=to, interval=query.interval, items=items)
            return result.model_dump(mode="json", by_alias=True), engine

        params = {"from": from_, "to": to, "interval": query.interval, **_filters(query)}
        return _cached(user_id, "cashflow", params, compute)


def net_worth(*, user_id: UUID, query: NetWorthQuery) -> dict:
    """Assets, liabilities and net worth at each month's end, the last point today."""
    with db.transaction() as conn:
        access, timezone, from_, to = _prepare(conn, user_id, query)

        def compute() -> tuple[dict, str]:
            rows = repo.net_worth(
                conn,
                access,
                points=periods.month_ends(from_, to),
                timezone=timezone,
                account_id=query.account_id,
                family_id=query.family_id,
            )
            items = [{**r, "net_worth": r["assets"] - r["liabilities"]} for r in rows]
            result = NetWorthResult(from_=from_, to=to, interval=query.interval, items=items)
            return result.model_dump(mode="json", by_alias=True), "postgres"

        params = {"from": from_, "to": to, "interval": query.interval, **_filters(query)}
        return _cached(user_id, "net-worth", params, compute)


def _first_pass(
    access: Access, group_by: str, from_: date, to: date, query: SpendingQuery | CashflowQuery, where, params: dict
) -> dict[str, Any]:
    """repo's where/params, with the monthly roll-up's first pass when it can answer."""
    if get_settings().analytics_monthly_totals:
        totals = totals_repo.base(
            access, group_by=group_by, from_=from_, to=to, account_id=query.account_id, family_id=query.family_id
        )
        if totals is not None:
            return {"where": where, "params": totals[1], "base": totals[0]}
    return {"where": where, "params": params}


def _filters(query) -> dict[str, Any]:
    return {"account_id": query.account_id, "family_id": query.family_id}


def _es():
    from chalicelib.analytics import es_aggs

    return es_aggs
