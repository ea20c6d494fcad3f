"""The hand-off of a write's pushes to the push function (app.py `live_push`): one
asynchronous Lambda invoke (InvocationType=Event) through boto3's `lambda` client, which
returns once Lambda has queued the event (202), not when the pushes are sent.

In AWS the endpoint is Lambda's own; under `make run` it is the local WebSocket gateway,
which answers the same Invoke API (`POST /2015-03-31/functions/{name}/invocations`) and
runs the push function in its own process. The client is made once per process and
loaded on the first hand-off, not at cold start."""

import threading
from typing import Any

from chalicelib.infra.settings import get_settings

_client: Any = None
_lock = threading.Lock()


class HandOffFailed(Exception):
    """The push function did not accept the pushes (the caller logs and drops them)."""


def _lambda_client() -> Any:
    global _client
    with _lock:
        if _client is None:
            from chalicelib.live.management_api import boto_session

            endpoint = get_settings().live_push_invoke_endpoint or None
            _client = boto_session().client("lambda", endpoint_url=endpoint)
        return _client


def reset() -> None:
    """Forget the client (tests point the hand-off at another endpoint)."""
    global _client
    with _lock:
        _client = None


def invoke(function_name: str, payload: bytes) -> None:
    """Queue one invocation of the push function with this payload; HandOffFailed if it
    was not accepted (botocore's own errors for an unreachable endpoint pass through)."""
    response = _lambda_client().invoke(FunctionName=function_name, InvocationType="Event", Payload=payload)
    if response.get("StatusCode") != 202:
        raise HandOffFailed(f"invoke answered {response.get('StatusCode')}")
