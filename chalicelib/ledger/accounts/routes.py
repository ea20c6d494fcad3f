"""/accounts (API.md "Accounts"). GETs answer from the API cache when it is fresh."""

from uuid import UUID

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.core.caching import read_through
from chalicelib.ledger.accounts import service
from chalicelib.ledger.accounts.models import AccountCreate, AccountList, AccountOut, AccountPatch, AccountQuery, to_out

routes = ApiBlueprint(__name__, tag="accounts")


@routes.route("/accounts", method="POST", body=AccountCreate, response=AccountOut, status=201, errors_=(403, 404))
def create_account(ctx: RequestContext, body: AccountCreate):
    """Open an account (personal, or in a family the caller manages)."""
    return to_out(service.create_account(actor=ctx.actor, data=body))


@routes.route("/accounts", query=AccountQuery, response=AccountList, errors_=(404,))
def list_accounts(ctx: RequestContext, query: AccountQuery):
    """Accounts the caller can see."""
    return read_through(
        "accounts",
        user_id=ctx.user_id,
        params=query.model_dump(mode="json"),
        compute=lambda: _account_page(ctx.user_id, query).model_dump(mode="json"),
    )


def _account_page(user_id: UUID, query: AccountQuery) -> AccountList:
    accounts, next_cursor = service.list_accounts(user_id=user_id, query=query)
    return AccountList(items=[to_out(a) for a in accounts], next_cursor=next_cursor)


@routes.route("/accounts/{account_id}", response=AccountOut, errors_=(404,))
def get_account(ctx: RequestContext, account_id: UUID):
    """One account."""
    return read_through(
        "account",
        user_id=ctx.user_id,
        params={"id": str(account_id)},
        compute=lambda: to_out(service.get_account(user_id=ctx.user_id, account_id=account_id)).model_dump(mode="json"),
    )


@routes.route("/accounts/{account_id}", method="PATCH", body=AccountPatch, response=AccountOut, errors_=(403, 404, 409))
def update_account(ctx: RequestContext, account_id: UUID, body: AccountPatch):
    """Change an account."""
    return to_out(service.update_account(actor=ctx.actor, account_id=account_id, data=body))


@routes.route("/accounts/{account_id}", method="DELETE", status=204, errors_=(403, 404))
def delete_account(ctx: RequestContext, account_id: UUID):
    """Delete an unused account, or deactivate one with transactions."""
    service.delete_account(actor=ctx.actor, account_id=account_id)
