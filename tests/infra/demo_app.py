"""A small app built from the same routing pieces, to test the cross-cutting behaviour
(error shape, validation, idempotency) apart from any one domain."""

import time
from uuid import UUID

from chalice import Chalice
from pydantic import Field

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.core.types import Money, RequestModel, ResponseModel
from chalicelib.errors import Conflict, NotFound
from chalicelib.infra import db
from chalicelib.notifications.service import create_notification

demo = ApiBlueprint(__name__, tag="demo")


class NoteIn(RequestModel):
    title: str = Field(min_length=1, max_length=50)
    amount: Money
    slow: bool = False


class NoteOut(ResponseModel):
    id: UUID
    title: str
    amount: Money


@demo.route("/demo/notes", method="POST", body=NoteIn, response=NoteOut, status=201)
def create_note(ctx: RequestContext, body: NoteIn):
    """Create a note (a system notification, to have a real write)."""
    with db.transaction() as conn:
        note_id = create_notification(
            conn, user_id=ctx.user_id, type="system", title=body.title, message=str(body.amount)
        )
        if body.slow:
            time.sleep(0.5)
    return NoteOut(id=note_id, title=body.title, amount=body.amount)


@demo.route("/demo/notes/{note_id}", response=NoteOut)
def get_note(ctx: RequestContext, note_id: UUID):
    """Read a note of the caller."""
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT id, title, message FROM notifications WHERE id = %s AND user_id = %s", (note_id, ctx.user_id)
        ).fetchone()
    if row is None:
        raise NotFound("Note not found")
    return NoteOut(id=row["id"], title=row["title"], amount=row["message"])


@demo.route("/demo/conflict", method="POST")
def conflict(ctx: RequestContext):
    """Always a conflict."""
    raise Conflict("Already there", details=[{"field": "email", "message": "taken"}])


@demo.route("/demo/crash", auth=False)
def crash(ctx: RequestContext):
    """Always an internal error."""
    raise RuntimeError("secret internals: password=hunter2")


app = Chalice(app_name="demo")
app.register_blueprint(demo.blueprint)
