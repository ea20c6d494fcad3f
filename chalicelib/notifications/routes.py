"""/notifications (API.md "Notifications"): read-only for clients, apart from marking read."""

from uuid import UUID

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.notifications import service
from chalicelib.notifications.models import NotificationOut, NotificationPage, NotificationQuery, UnreadCount

routes = ApiBlueprint(__name__, tag="notifications")


@routes.route("/notifications", query=NotificationQuery, response=NotificationPage, errors_=(400,))
def list_notifications(ctx: RequestContext, query: NotificationQuery):
    """The caller's notifications, newest first; filter by `unread` and `type`."""
    notifications, next_cursor = service.list_notifications(
        user_id=ctx.user_id, unread=query.unread, type=query.type, cursor=query.cursor, limit=query.limit
    )
    return NotificationPage(items=[NotificationOut.model_validate(n) for n in notifications], next_cursor=next_cursor)


@routes.route("/notifications/unread-count", response=UnreadCount)
def unread_count(ctx: RequestContext):
    """How many notifications the caller has not read."""
    return UnreadCount(count=service.unread_count(user_id=ctx.user_id))


@routes.route("/notifications/{notification_id}/read", method="POST", response=NotificationOut, errors_=(404,))
def mark_read(ctx: RequestContext, notification_id: UUID):
    """Mark one notification read."""
    return NotificationOut.model_validate(service.mark_read(user_id=ctx.user_id, notification_id=notification_id))


@routes.route("/notifications/read-all", method="POST", status=204)
def mark_all_read(ctx: RequestContext):
    """Mark every notification read."""
    service.mark_all_read(user_id=ctx.user_id)
