"""Response and query models of /notifications (API.md "Notifications")."""

from typing import Any, Literal
from uuid import UUID

from chalicelib.core.types import PageQuery, ResponseModel, Timestamp

NotificationType = Literal["budget_alert", "goal_milestone", "unusual_spending", "bill_reminder", "system", "security"]
Priority = Literal["low", "normal", "high", "urgent"]


class NotificationQuery(PageQuery):
    unread: bool | None = None
    type: NotificationType | None = None


class NotificationOut(ResponseModel):
    id: UUID
    type: NotificationType
    title: str
    message: str
    data: dict[str, Any]
    priority: Priority
    read_at: Timestamp | None
    created_at: Timestamp
    expires_at: Timestamp | None


class NotificationPage(ResponseModel):
    items: list[NotificationOut]
    next_cursor: str | None


class UnreadCount(ResponseModel):
    count: int
