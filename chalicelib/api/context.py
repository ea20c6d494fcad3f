"""What a view knows about the request it serves."""

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class Principal:
    user_id: UUID
    session_id: UUID


@dataclass
class RequestContext:
    request_id: str
    method: str
    path: str
    ip_address: str | None
    user_agent: str | None
    headers: dict[str, str]
    principal: Principal | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def user_id(self) -> UUID:
        if self.principal is None:
            raise RuntimeError("route is not authenticated")
        return self.principal.user_id
