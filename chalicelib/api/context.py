"""What a view knows about the request it serves."""

from dataclasses import dataclass
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

    @property
    def user_id(self) -> UUID:
        if self.principal is None:
            raise RuntimeError("route is not authenticated")
        return self.principal.user_id
