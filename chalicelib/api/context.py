"""What a view knows about the request it serves."""

from dataclasses import dataclass
from uuid import UUID

from chalicelib.core.actor import Actor


@dataclass
class RequestContext:
    request_id: str
    method: str
    path: str
    headers: dict[str, str]
    # Who the request acts for, built once by the routing wrapper: anonymous until the
    # guard has checked the access token, then signed in. Services get only this.
    actor: Actor

    @property
    def user_id(self) -> UUID:
        if self.actor.user_id is None:
            raise RuntimeError("route is not authenticated")
        return self.actor.user_id
