"""/transactions and their receipts (API.md "Transactions"). GETs answer from the API
cache when it is fresh."""

from uuid import UUID

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.core.caching import read_through
from chalicelib.ledger.transactions import listing, receipts, service
from chalicelib.ledger.transactions.models import (
    ReceiptDownload,
    ReceiptUpload,
    ReceiptUploadRequest,
    TransactionCreate,
    TransactionList,
    TransactionOut,
    TransactionPatch,
    TransactionQuery,
)

routes = ApiBlueprint(__name__, tag="transactions")


@routes.route(
    "/transactions", method="POST", body=TransactionCreate, response=TransactionOut, status=201, errors_=(403, 404, 409)
)
def create_transaction(ctx: RequestContext, body: TransactionCreate):
    """Book a transaction."""
    return TransactionOut.model_validate(service.create_transaction(actor=ctx.actor, data=body))


@routes.route("/transactions", query=TransactionQuery, response=TransactionList, errors_=(404,))
def list_transactions(ctx: RequestContext, query: TransactionQuery):
    """Transactions the caller can see, newest first."""
    return read_through(
        "transactions",
        user_id=ctx.user_id,
        params=query.model_dump(mode="json", by_alias=True),
        compute=lambda: _transaction_page(ctx.user_id, query).model_dump(mode="json"),
    )


def _transaction_page(user_id: UUID, query: TransactionQuery) -> TransactionList:
    transactions, next_cursor = listing.list_transactions(user_id=user_id, query=query)
    return TransactionList(items=[TransactionOut.model_validate(t) for t in transactions], next_cursor=next_cursor)


@routes.route("/transactions/{transaction_id}", response=TransactionOut, errors_=(404,))
def get_transaction(ctx: RequestContext, transaction_id: UUID):
    """One transaction."""
    return read_through(
        "transaction",
        user_id=ctx.user_id,
        params={"id": str(transaction_id)},
        compute=lambda: TransactionOut.model_validate(
            service.get_transaction(user_id=ctx.user_id, transaction_id=transaction_id)
        ).model_dump(mode="json"),
    )


@routes.route(
    "/transactions/{transaction_id}",
    method="PATCH",
    body=TransactionPatch,
    response=TransactionOut,
    errors_=(403, 404, 409),
)
def update_transaction(ctx: RequestContext, transaction_id: UUID, body: TransactionPatch):
    """Change a transaction (fields, status, category, date or account)."""
    return TransactionOut.model_validate(
        service.update_transaction(actor=ctx.actor, transaction_id=transaction_id, data=body)
    )


@routes.route("/transactions/{transaction_id}", method="DELETE", status=204, errors_=(403, 404))
def delete_transaction(ctx: RequestContext, transaction_id: UUID):
    """Delete a transaction."""
    service.delete_transaction(actor=ctx.actor, transaction_id=transaction_id)


@routes.route(
    "/transactions/{transaction_id}/receipt",
    method="POST",
    body=ReceiptUploadRequest,
    response=ReceiptUpload,
    status=201,
    errors_=(403, 404, 503),
)
def upload_receipt(ctx: RequestContext, transaction_id: UUID, body: ReceiptUploadRequest):
    """A presigned URL to upload the transaction's receipt (jpeg, png or pdf)."""
    return ReceiptUpload.model_validate(
        receipts.start_upload(
            actor=ctx.actor, transaction_id=transaction_id, content_type=body.content_type, size=body.size
        )
    )


@routes.route("/transactions/{transaction_id}/receipt", response=ReceiptDownload, errors_=(404,))
def download_receipt(ctx: RequestContext, transaction_id: UUID):
    """A presigned URL to download the transaction's receipt."""
    return ReceiptDownload.model_validate(receipts.download(user_id=ctx.user_id, transaction_id=transaction_id))
