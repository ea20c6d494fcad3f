"""The app's `websocket_api`: Chalice's own WebsocketAPI (send → post_to_connection,
GoneException → WebsocketDisconnectedError), told where the management API answers.

Chalice configures the endpoint only inside a WebSocket handler, from the event's apiId;
the HTTP, S3 and schedule functions push too, so they take it from settings
(`live_management_endpoint`). boto3 is loaded on the first push, not on cold start."""

import threading
from typing import Any

from chalice.app import WebsocketAPI

from chalicelib.infra.settings import get_settings


class ManagementWebsocketAPI(WebsocketAPI):
    def __init__(self, endpoint: str | None = None) -> None:
        super().__init__()
        self._lock = threading.Lock()
        if endpoint:
            self.configure_endpoint(endpoint)

    def configure_endpoint(self, url: str) -> None:
        """Point sends at this management API (a local gateway, or API Gateway's)."""
        with self._lock:
            self._endpoint = url.rstrip("/")
            self._client = None

    @property
    def endpoint(self) -> str | None:
        return self._endpoint

    def _get_client(self) -> Any:
        with self._lock:
            if self.session is None:
                self.session = boto_session()
            return super()._get_client()


def boto_session() -> Any:
    """A boto3 session for the push path's clients (management API, the push function's
    invoke): one try, short timeouts, and stand-in credentials where none exist locally."""
    import boto3
    import botocore.config
    import botocore.session

    core = botocore.session.Session()
    # One try, short timeouts: a push is best effort and must never hold its caller long.
    core.set_default_client_config(
        botocore.config.Config(
            connect_timeout=1,
            read_timeout=2,
            retries={"total_max_attempts": 1, "mode": "standard"},
            max_pool_connections=max(10, get_settings().live_push_workers),
        )
    )
    region = core.get_config_variable("region") or get_settings().s3_region
    session = boto3.session.Session(botocore_session=core, region_name=region)
    if session.get_credentials() is None:
        # The local gateway checks no signature; API Gateway always has the function's role.
        session = boto3.session.Session(
            botocore_session=core,
            region_name=region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
    return session
