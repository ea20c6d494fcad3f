"""The local WebSocket gateway: what API Gateway's WebSocket API does for the deployed
app, so `make run` pushes through the very code path that runs in AWS.

* Clients connect to ws://127.0.0.1:8001/?token=…; each connection gets an id and the
  app's `$connect`, `$default` and `$disconnect` handlers are invoked with API
  Gateway-shaped events (requestContext.connectionId, routeKey, eventType, the query
  string). A `$connect` answer other than 2xx refuses the handshake with that status.
* The management API that `app.websocket_api.send` calls (boto3's
  apigatewaymanagementapi: `POST /@connections/{id}`, also `GET` and `DELETE`) answers
  on a second port (8002): the `websockets` server speaks only GET. A connection that is
  not open answers 410 GoneException, as API Gateway does.
* The same port answers the Lambda Invoke API for the app's `@app.lambda_function`s
  (`POST /2015-03-31/functions/{name}/invocations`, boto3's `lambda` client with
  endpoint_url): the push function a write hands its pushes to (LIVE_PUSH_FUNCTION) runs
  here, in this process, on worker threads; `InvocationType: Event` is answered 202 at
  once, as Lambda does once it has queued the event.

Only this module imports `websockets`; the Lambda package never needs it."""

import asyncio
import base64
import importlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType, SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from chalicelib.infra.logging import logger

ROUTES = ("$connect", "$default", "$disconnect")
_EVENT_TYPES = {"$connect": "CONNECT", "$default": "MESSAGE", "$disconnect": "DISCONNECT"}


def handlers_of(app_module: ModuleType) -> dict[str, Callable[[dict, Any], Any]]:
    """The Lambda entry points of the app's WebSocket routes (what API Gateway invokes)."""
    found = {}
    for route, config in app_module.app.websocket_handlers.items():
        module_name, _, attr = config.handler_string.rpartition(".")
        found[route] = getattr(importlib.import_module(module_name), attr)
    return found


def functions_of(app_module: ModuleType) -> dict[str, Callable[[dict, Any], Any]]:
    """The app's pure Lambda functions by name (what the Invoke API runs)."""
    found = {}
    for function in app_module.app.pure_lambda_functions:
        module_name, _, attr = function.handler_string.rpartition(".")
        found[function.name] = getattr(importlib.import_module(module_name), attr)
    return found


_INVOKE_PREFIX = "/2015-03-31/functions/"


def _function_name(path: str) -> str | None:
    """{name} of /2015-03-31/functions/{name}/invocations: a name, a full
    {app}-{stage}-{name} or an ARN (arn:aws:lambda:…:function:{name}[:qualifier])."""
    path = unquote(urlsplit(path).path)
    if not path.startswith(_INVOKE_PREFIX) or not path.endswith("/invocations"):
        return None
    name = path[len(_INVOKE_PREFIX) : -len("/invocations")]
    if name.startswith("arn:"):
        parts = name.split(":")
        name = parts[6] if len(parts) > 6 else ""
    return name or None


class _Connection:
    __slots__ = ("id", "opened", "ws")

    def __init__(self, connection_id: str, ws: ServerConnection):
        self.id = connection_id
        self.ws = ws
        self.opened = asyncio.Event()


class LocalWebsocketGateway:
    def __init__(
        self,
        handlers: dict[str, Callable[[dict, Any], Any]],
        *,
        host: str = "127.0.0.1",
        port: int = 8001,
        management_port: int = 8002,
        stage: str = "api",
        workers: int = 16,
        functions: dict[str, Callable[[dict, Any], Any]] | None = None,
        function_workers: int = 4,
    ):
        self.handlers = handlers
        self.functions = functions or {}
        self._invocations = ThreadPoolExecutor(max_workers=function_workers, thread_name_prefix="ws-invoke")
        self.host, self.port, self.management_port, self.stage = host, port, management_port, stage
        self._connections: dict[str, _Connection] = {}
        self._sending: set[asyncio.Future] = set()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ws-gateway")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._management: ThreadingHTTPServer | None = None

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> "LocalWebsocketGateway":
        """Serve on background threads; returns once both ports listen (port 0: any free one)."""
        self._management = _ManagementServer((self.host, self.management_port), _management_handler(self))
        self._management.daemon_threads = True
        self.management_port = self._management.server_address[1]
        threading.Thread(target=self._management.serve_forever, name="ws-management", daemon=True).start()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), name="ws-gateway", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the local WebSocket gateway did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(10)
        if self._management is not None:
            self._management.shutdown()
            self._management.server_close()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._invocations.shutdown(wait=False, cancel_futures=True)

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def management_url(self) -> str:
        return f"http://{self.host}:{self.management_port}"

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        async with serve(self._session, self.host, self.port, process_request=self._connect) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stopped.wait()

    # --- the three routes -------------------------------------------------------------

    def _event(self, route: str, connection_id: str, **extra: Any) -> dict[str, Any]:
        now_ms = int(time.time() * 1000)
        return {
            "requestContext": {
                "routeKey": route,
                "eventType": _EVENT_TYPES[route],
                "connectionId": connection_id,
                "messageDirection": "IN",
                "apiId": "local",
                "stage": self.stage,
                "domainName": f"{self.host}:{self.port}",
                "requestId": secrets.token_hex(8),
                "requestTimeEpoch": now_ms,
                "connectedAt": now_ms,
            },
            "isBase64Encoded": False,
            **extra,
        }

    async def _invoke(self, route: str, event: dict[str, Any]) -> dict[str, Any]:
        handler = self.handlers.get(route)
        if handler is None:
            return {"statusCode": 200}
        context = SimpleNamespace(
            function_name=f"fiscaflow-local-{route.strip('$')}", aws_request_id=secrets.token_hex(8)
        )
        try:
            result = await asyncio.get_running_loop().run_in_executor(self._executor, handler, event, context)
        except Exception:
            logger.exception("websocket handler failed", extra={"route": route})
            return {"statusCode": 500}
        return result if isinstance(result, dict) else {"statusCode": 200}

    async def _connect(self, ws: ServerConnection, request: Any) -> Any:
        connection_id = base64.b64encode(secrets.token_bytes(10)).decode()  # API Gateway's look: "L0SM9cOFvHcCIhw="
        url = urlsplit(request.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()} or None
        headers = {k: v for k, v in request.headers.raw_items()}
        event = self._event("$connect", connection_id, queryStringParameters=query, headers=headers)
        event["requestContext"]["identity"] = {"sourceIp": ws.remote_address[0] if ws.remote_address else None}
        result = await self._invoke("$connect", event)
        status = int(result.get("statusCode", 200))
        if status >= 300:
            response = ws.respond(HTTPStatus(status), result.get("body") or HTTPStatus(status).phrase)
            return response
        self._connections[connection_id] = _Connection(connection_id, ws)
        ws.fiscaflow_connection_id = connection_id  # type: ignore[attr-defined]
        return None

    async def _session(self, ws: ServerConnection) -> None:
        conn = self._connections[ws.fiscaflow_connection_id]  # type: ignore[attr-defined]
        conn.opened.set()
        try:
            async for message in ws:
                body = message if isinstance(message, str) else message.decode("utf-8", "replace")
                await self._invoke("$default", self._event("$default", conn.id, body=body))
        except ConnectionClosed:
            pass
        finally:
            self._connections.pop(conn.id, None)
            await self._invoke("$disconnect", self._event("$disconnect", conn.id))

    # --- the Lambda Invoke API --------------------------------------------------------

    def function(self, name: str) -> tuple[str, Callable[[dict, Any], Any]] | None:
        """The function a name means: its own name, or Chalice's deployed {app}-{stage}-{name}."""
        for own, handler in self.functions.items():
            if name == own or name.endswith(f"-{own}"):
                return name, handler
        return None

    def invoke(self, name: str, handler: Callable[[dict, Any], Any], payload: bytes, asynchronous: bool) -> Any:
        """Run the function on the invocation workers: queued (Event) or awaited (RequestResponse)."""
        event = json.loads(payload or b"{}")
        future = self._invocations.submit(self._run_function, name, handler, event)
        return None if asynchronous else future.result()

    @staticmethod
    def _run_function(name: str, handler: Callable[[dict, Any], Any], event: dict) -> Any:
        from chalicelib.infra.lambda_events import LocalContext

        try:
            return handler(event, LocalContext(function_name=name))
        except Exception:
            logger.exception("local function failed", extra={"function": name})
            raise

    # --- the management API -----------------------------------------------------------

    def post(self, connection_id: str, data: bytes) -> bool:
        """POST /@connections/{id}: True once the frame is accepted (API Gateway answers
        200 when it has queued the frame, not when the client has it), False when the
        connection is gone. An open connection's frame is handed to the event loop without
        waiting for it, so a fan-out's HTTP threads do not queue behind the loop."""
        conn = self._connections.get(connection_id)
        if conn is None:
            return False
        if not conn.opened.is_set() or self._loop is None:
            return self.run_on_loop(self._post(connection_id, data))
        self._loop.call_soon_threadsafe(self._queue, conn, data)
        return True

    def _queue(self, conn: _Connection, data: bytes) -> None:
        # Tasks start in the order their frames came in, so one connection's frames keep
        # their order.
        task = asyncio.ensure_future(self._post(conn.id, data))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _post(self, connection_id: str, data: bytes) -> bool:
        conn = self._connections.get(connection_id)
        if conn is None:
            return False
        try:
            # Registered in $connect, a push can outrun the end of the handshake.
            await asyncio.wait_for(conn.opened.wait(), 2)
            try:
                await conn.ws.send(data.decode("utf-8"))
            except UnicodeDecodeError:
                await conn.ws.send(data)
            return True
        except (ConnectionClosed, TimeoutError):
            return False

    async def _close(self, connection_id: str) -> bool:
        conn = self._connections.get(connection_id)
        if conn is None:
            return False
        await conn.ws.close()
        return True

    def run_on_loop(self, coroutine: Any, timeout: float = 5) -> Any:
        if self._loop is None:
            raise RuntimeError("gateway not started")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def is_open(self, connection_id: str) -> bool:
        return connection_id in self._connections


class _ManagementServer(ThreadingHTTPServer):
    # The default backlog (5) drops connects when a push fans out over many at once.
    request_queue_size = 128


def _management_handler(gateway: LocalWebsocketGateway) -> type[BaseHTTPRequestHandler]:
    class ManagementHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: boto3 reuses its connections
        # A 410's body is a second write after its headers: without TCP_NODELAY it waits for
        # the client's delayed ACK.
        disable_nagle_algorithm = True

        def _connection_id(self) -> str | None:
            # /@connections/{id}, or /{stage}/@connections/{id} as on API Gateway
            path = unquote(urlsplit(self.path).path)
            _, sep, tail = path.rpartition("/@connections/")
            return tail if sep and tail else None

        def _answer(self, status: int, body: dict[str, Any] | None = None, error_type: str | None = None) -> None:
            raw = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            if error_type:
                self.send_header("x-amzn-ErrorType", error_type)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _gone(self) -> None:
            self._answer(410, {"message": None}, error_type="GoneException")

        def _invoke(self, name: str, data: bytes) -> None:
            found = gateway.function(name)
            if found is None:
                message = f"Function not found: {name}"
                self._answer(404, {"Type": "User", "message": message}, error_type="ResourceNotFoundException")
                return
            asynchronous = self.headers.get("X-Amz-Invocation-Type", "RequestResponse") == "Event"
            try:
                result = gateway.invoke(*found, data, asynchronous)
            except ValueError:
                self._answer(
                    400,
                    {"Type": "User", "message": "Could not parse request body into json"},
                    error_type="InvalidRequestContentException",
                )
                return
            except Exception as exc:
                # Lambda answers 200 with the error in the body and X-Amz-Function-Error.
                raw = json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}).encode()
                self._raw(200, raw, {"X-Amz-Function-Error": "Unhandled"})
                return
            if asynchronous:
                self._raw(202, b"", {})
            else:
                self._raw(200, json.dumps(result).encode(), {"X-Amz-Executed-Version": "$LATEST"})

        def _raw(self, status: int, raw: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            function_name = _function_name(self.path)
            if function_name is not None:
                self._invoke(function_name, data)
                return
            connection_id = self._connection_id()
            if connection_id is None:
                self._answer(404, {"message": "Not Found"})
            elif gateway.post(connection_id, data):
                self._answer(200)
            else:
                self._gone()

        def do_DELETE(self) -> None:
            connection_id = self._connection_id()
            if connection_id is not None and gateway.run_on_loop(gateway._close(connection_id)):
                self._answer(204)
            else:
                self._gone()

        def do_GET(self) -> None:
            connection_id = self._connection_id()
            if connection_id is not None and gateway.is_open(connection_id):
                self._answer(200, {"ConnectedAt": None, "Identity": {}, "LastActiveAt": None})
            else:
                self._gone()

        def log_message(self, format: str, *args: Any) -> None:
            return  # one line per push would drown the log

    return ManagementHandler
