"""The hand-off of a write's pushes to the push function (app.py `live_push`): one
asynchronous Lambda invoke (InvocationType=Event), answered 202 once Lambda has queued
the event, not when the pushes are sent.

Two transports of the same request (`POST /2015-03-31/functions/{name}/invocations`,
`X-Amz-Invocation-Type: Event`, the pushes as the JSON payload):

* AWS (`live_push_invoke_endpoint` unset): boto3's `lambda` client, signed with the
  function's role, to Lambda's regional endpoint.
* Local (`live_push_invoke_endpoint` set, `make run`: the local WebSocket gateway, which
  answers the Invoke API and runs the push function in its process): the same request as
  a plain keep-alive HTTP POST, unsigned, since the gateway checks no signature. One
  boto3 call costs the writer ~1.2 ms of CPU, this one ~0.1 ms (BENCHMARKS.md "Live
  updates"), and the writer is what the hand-off exists to spare.

Both are made once per thread/process and loaded on the first hand-off, not at cold start."""

import http.client
import threading
from typing import Any
from urllib.parse import quote, urlsplit

from chalicelib.infra.settings import get_settings

INVOKE_PATH = "/2015-03-31/functions/{name}/invocations"
# Like the management API client's: one try, short timeouts (the write may wait on it).
TIMEOUT_SECONDS = 1.0
# Lambda's limit on an asynchronous invocation's event (256 KB).
MAX_PAYLOAD_BYTES = 256 * 1024

_client: Any = None
_lock = threading.Lock()
_local = threading.local()


class HandOffFailed(Exception):
    """The push function did not accept the pushes (the caller logs and drops them)."""


def invoke(function_name: str, payload: bytes) -> None:
    """Queue one invocation of the push function with this payload, or raise."""
    endpoint = get_settings().live_push_invoke_endpoint
    if endpoint:
        _post(endpoint, function_name, payload)
    else:
        invoke_signed(function_name, payload)


def invoke_signed(function_name: str, payload: bytes, *, endpoint_url: str | None = None) -> None:
    """The AWS transport: boto3's Invoke (endpoint_url: another Invoke API, e.g. the gateway)."""
    response = _lambda_client(endpoint_url).invoke(FunctionName=function_name, InvocationType="Event", Payload=payload)
    if response.get("StatusCode") != 202:
        raise HandOffFailed(f"invoke answered {response.get('StatusCode')}")


def _lambda_client(endpoint_url: str | None) -> Any:
    global _client
    if endpoint_url is not None:
        from chalicelib.live.management_api import boto_session

        return boto_session().client("lambda", endpoint_url=endpoint_url)
    with _lock:
        if _client is None:
            from chalicelib.live.management_api import boto_session

            _client = boto_session().client("lambda")
        return _client


def _post(endpoint: str, function_name: str, payload: bytes) -> None:
    """The local transport: the Invoke API request as one HTTP POST on a kept-alive connection."""
    url = urlsplit(endpoint)
    path = url.path.rstrip("/") + INVOKE_PATH.format(name=quote(function_name, safe=""))
    headers = {"X-Amz-Invocation-Type": "Event", "Content-Type": "application/json"}
    for attempt in (1, 2):
        conn = _connection(url.scheme, url.netloc)
        try:
            conn.request("POST", path, body=payload, headers=headers)
            response = conn.getresponse()
            response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # A kept-alive connection the gateway closed (it restarted): once more, anew.
            _drop_connection()
            if attempt == 2:
                raise
            continue
        except Exception:
            _drop_connection()
            raise
        if response.status != 202:
            raise HandOffFailed(f"invoke answered {response.status}")
        return


def _connection(scheme: str, netloc: str) -> http.client.HTTPConnection:
    conn = getattr(_local, "conn", None)
    if conn is None or getattr(_local, "netloc", None) != (scheme, netloc):
        _drop_connection()
        kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        conn = _local.conn = kind(netloc, timeout=TIMEOUT_SECONDS)
        _local.netloc = (scheme, netloc)
    return conn


def _drop_connection() -> None:
    conn = getattr(_local, "conn", None)
    if conn is not None:
        conn.close()
    _local.conn = None


def reset() -> None:
    """Forget the clients (tests point the hand-off at another endpoint)."""
    global _client
    with _lock:
        _client = None
    _drop_connection()
