"""GET /search/transactions and GET /search/categories (API.md "Search")."""

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.search import service
from chalicelib.search.models import (
    CategorySearchQuery,
    CategorySearchResult,
    TransactionSearchQuery,
    TransactionSearchResult,
)

routes = ApiBlueprint(__name__, tag="search")


@routes.route(
    "/search/transactions", query=TransactionSearchQuery, response=TransactionSearchResult, errors_=(400, 404)
)
def search_transactions(ctx: RequestContext, query: TransactionSearchQuery):
    """Search the transactions the caller may read, with facets and highlights."""
    return service.search_transactions(user_id=ctx.user_id, query=query)


@routes.route("/search/categories", query=CategorySearchQuery, response=CategorySearchResult, errors_=(400,))
def search_categories(ctx: RequestContext, query: CategorySearchQuery):
    """Search the default, own and family categories by name."""
    return service.search_categories(user_id=ctx.user_id, query=query)
