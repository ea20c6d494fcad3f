"""/exports: ask for a CSV, XLSX or PDF export, follow it, download it."""

from uuid import UUID

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.exports import service
from chalicelib.exports.models import ExportCreate, ExportCreated, ExportListQuery, ExportOut, ExportPage

routes = ApiBlueprint(__name__, tag="exports")


@routes.route("/exports", method="POST", body=ExportCreate, response=ExportCreated, status=202, errors_=(404, 503))
def create_export(ctx: RequestContext, body: ExportCreate):
    """Ask for an export; the file is built in the background."""
    job = service.create_export(actor=ctx.actor, data=body)
    return ExportCreated.model_validate(job)


@routes.route("/exports", query=ExportListQuery, response=ExportPage)
def list_exports(ctx: RequestContext, query: ExportListQuery):
    """The caller's exports, newest first."""
    exports, next_cursor = service.list_exports(user_id=ctx.user_id, limit=query.limit, cursor=query.cursor)
    return ExportPage(items=[ExportOut.model_validate(e) for e in exports], next_cursor=next_cursor)


@routes.route("/exports/{export_id}", response=ExportOut, errors_=(404,))
def get_export(ctx: RequestContext, export_id: UUID):
    """One export: status, progress and, once completed, a download URL."""
    return ExportOut.model_validate(service.get_export(user_id=ctx.user_id, export_id=export_id))
