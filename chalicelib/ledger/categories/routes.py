"""/categories (API.md "Categories"). GETs answer from the API cache when it is fresh."""

from uuid import UUID

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.core.caching import read_through
from chalicelib.ledger.categories import service
from chalicelib.ledger.categories.models import CategoryCreate, CategoryList, CategoryOut, CategoryPatch

routes = ApiBlueprint(__name__, tag="categories")


@routes.route("/categories", response=CategoryList)
def list_categories(ctx: RequestContext):
    """The default tree plus the caller's and their families' categories."""
    return read_through(
        "categories",
        user_id=ctx.user_id,
        params={},
        compute=lambda: CategoryList(
            items=[CategoryOut.model_validate(c) for c in service.list_categories(user_id=ctx.user_id)]
        ).model_dump(mode="json"),
    )


@routes.route("/categories", method="POST", body=CategoryCreate, response=CategoryOut, status=201, errors_=(403, 404))
def create_category(ctx: RequestContext, body: CategoryCreate):
    """Create a personal or family category."""
    return CategoryOut.model_validate(service.create_category(actor=ctx.actor, data=body))


@routes.route("/categories/{category_id}", response=CategoryOut, errors_=(404,))
def get_category(ctx: RequestContext, category_id: UUID):
    """One category."""
    return read_through(
        "category",
        user_id=ctx.user_id,
        params={"id": str(category_id)},
        compute=lambda: CategoryOut.model_validate(
            service.get_category(user_id=ctx.user_id, category_id=category_id)
        ).model_dump(mode="json"),
    )


@routes.route("/categories/{category_id}", method="PATCH", body=CategoryPatch, response=CategoryOut, errors_=(403, 404))
def update_category(ctx: RequestContext, category_id: UUID, body: CategoryPatch):
    """Change a category (defaults are read-only: 403)."""
    return CategoryOut.model_validate(service.update_category(actor=ctx.actor, category_id=category_id, data=body))


@routes.route("/categories/{category_id}", method="DELETE", status=204, errors_=(403, 404))
def delete_category(ctx: RequestContext, category_id: UUID):
    """Delete a category; its subcategories and transactions move to its parent."""
    service.delete_category(actor=ctx.actor, category_id=category_id)
