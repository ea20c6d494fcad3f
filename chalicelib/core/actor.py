"""Who a use case acts for: a signed-in person (with the session, address and user agent
the request came with), someone not signed in yet, or a named part of the system (the S3
import, a schedule) — so the audit trail never has to be told "nobody"."""

from dataclasses import dataclass, replace
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: UUID | None = None
    session_id: UUID | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    system_name: str | None = None

    @classmethod
    def system(cls, name: str) -> "Actor":
        """A part of the system acting on its own (`s3-import`, `schedule:budget-alerts`)."""
        return cls(system_name=name)

    def signed_in(self, *, user_id: UUID, session_id: UUID) -> "Actor":
        """The same request once its access token has been checked."""
        return replace(self, user_id=user_id, session_id=session_id)

    @property
    def is_system(self) -> bool:
        return self.system_name is not None
