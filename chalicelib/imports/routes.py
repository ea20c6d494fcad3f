"""POST /imports, POST /imports/{import_id}/confirm, GET /imports, GET /imports/{import_id}."""

from uuid import UUID

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.imports import service
from chalicelib.imports.models import (
    ImportConfirm,
    ImportCreate,
    ImportListQuery,
    ImportOut,
    ImportPage,
    ImportUpload,
    import_out,
)

routes = ApiBlueprint(__name__, tag="imports")


@routes.route("/imports", method="POST", body=ImportCreate, response=ImportUpload, status=201, errors_=(403, 404))
def create_import(ctx: RequestContext, body: ImportCreate):
    """Ask for a presigned upload URL for a bank statement file (CSV, OFX/QFX, QIF)."""
    return service.request_import(
        actor=ctx.actor,
        account_id=body.account_id,
        filename=body.filename,
        format=body.format,
        mapping=body.mapping,
        preview=body.preview,
        content_type=body.content_type,
        size=body.size,
    )


@routes.route(
    "/imports/{import_id}/confirm", method="POST", body=ImportConfirm, response=ImportOut, status=202,
    errors_=(403, 404, 409, 503),
)  # fmt: skip
def confirm_import(ctx: RequestContext, import_id: UUID, body: ImportConfirm):
    """Import a previewed or failed import's file, with a column mapping if given (saved for the account)."""
    return import_out(service.confirm_import(actor=ctx.actor, import_id=import_id, mapping=body.mapping))


@routes.route("/imports", query=ImportListQuery, response=ImportPage)
def list_imports(ctx: RequestContext, query: ImportListQuery):
    """The caller's statement imports, newest first."""
    imports, next_cursor = service.list_imports(
        user_id=ctx.user_id,
        limit=query.limit,
        cursor=query.cursor,
        account_id=query.account_id,
        status=query.status,
        sync_type=query.sync_type,
    )
    return ImportPage(items=[import_out(i) for i in imports], next_cursor=next_cursor)


@routes.route("/imports/{import_id}", response=ImportOut, errors_=(404,))
def get_import(ctx: RequestContext, import_id: UUID):
    """One statement import: status, counts and every bad line of a failed file."""
    return import_out(service.get_import(user_id=ctx.user_id, import_id=import_id))
