"""/bank-connections and POST /webhooks/plaid."""

from uuid import UUID

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.bank_sync import service, webhooks
from chalicelib.bank_sync.models import (
    ConnectionCreate,
    ConnectionList,
    ConnectionOut,
    ConnectionQuery,
    LinkTokenOut,
    LinkTokenRequest,
    SyncAccepted,
    connection_out,
)

routes = ApiBlueprint(__name__, tag="bank-connections")
NOT_CONFIGURED = 503


@routes.route("/bank-connections/link-token", method="POST", body=LinkTokenRequest, response=LinkTokenOut,
              errors_=(403, 404, NOT_CONFIGURED))  # fmt: skip
def create_link_token(ctx: RequestContext, body: LinkTokenRequest):
    """A Plaid Link token to connect a bank."""
    return service.create_link_token(actor=ctx.actor, family_id=body.family_id)


@routes.route("/bank-connections", method="POST", body=ConnectionCreate, response=ConnectionOut, status=201,
              errors_=(403, 404, 409, NOT_CONFIGURED))  # fmt: skip
def create_connection(ctx: RequestContext, body: ConnectionCreate):
    """Connect a bank with the public token Plaid Link returned; its accounts are linked."""
    return connection_out(service.connect(actor=ctx.actor, public_token=body.public_token, family_id=body.family_id))


@routes.route("/bank-connections", query=ConnectionQuery, response=ConnectionList, errors_=(NOT_CONFIGURED,))
def list_connections(ctx: RequestContext, query: ConnectionQuery):
    """The bank connections the caller can see."""
    connections, next_cursor = service.list_connections(user_id=ctx.user_id, limit=query.limit, cursor=query.cursor)
    return ConnectionList(items=[connection_out(c) for c in connections], next_cursor=next_cursor)


@routes.route("/bank-connections/{connection_id}", response=ConnectionOut, errors_=(404, NOT_CONFIGURED))
def get_connection(ctx: RequestContext, connection_id: UUID):
    """One bank connection: status, last sync, accounts."""
    return connection_out(service.get_connection(user_id=ctx.user_id, connection_id=connection_id))


@routes.route("/bank-connections/{connection_id}", method="DELETE", status=204, errors_=(403, 404, NOT_CONFIGURED))
def delete_connection(ctx: RequestContext, connection_id: UUID):
    """Disconnect the bank; the accounts and their history stay."""
    service.delete_connection(actor=ctx.actor, connection_id=connection_id)


@routes.route("/bank-connections/{connection_id}/sync", method="POST", response=SyncAccepted, status=202,
              errors_=(403, 404, 409, NOT_CONFIGURED))  # fmt: skip
def sync_connection(ctx: RequestContext, connection_id: UUID):
    """Sync the connection now, in the background."""
    return service.request_sync_now(actor=ctx.actor, connection_id=connection_id)


@routes.route("/bank-connections/{connection_id}/update-link-token", method="POST", response=LinkTokenOut,
              errors_=(403, 404, 409, NOT_CONFIGURED))  # fmt: skip
def update_link_token(ctx: RequestContext, connection_id: UUID):
    """A Link token in update mode, to repair a connection that needs its login again."""
    return service.update_link_token(actor=ctx.actor, connection_id=connection_id)


@routes.route("/webhooks/plaid", method="POST", auth=False, errors_=(401, NOT_CONFIGURED))
def plaid_webhook(ctx: RequestContext):
    """Plaid's webhooks, verified by their Plaid-Verification signature."""
    raw = routes.current_request.raw_body or b""
    return webhooks.handle_webhook(raw_body=raw, verification=ctx.headers.get("plaid-verification"))
