import json
from contextlib import ExitStack

import pytest

from tests.budgets.conftest import api, cats  # noqa: F401 - shared fixtures


@pytest.fixture
def gateway(services):
    """The local WebSocket gateway on free ports, the app's pushes pointed at it."""
    import app as app_module
    from chalicelib.local.ws_gateway import LocalWebsocketGateway, functions_of, handlers_of

    gw = LocalWebsocketGateway(
        handlers_of(app_module), port=0, management_port=0, functions=functions_of(app_module)
    ).start()
    websocket_api = app_module.app.websocket_api
    previous = websocket_api.endpoint
    websocket_api.configure_endpoint(gw.management_url)
    yield gw
    if previous:
        websocket_api.configure_endpoint(previous)
    gw.stop()


@pytest.fixture
def handed_off(gateway, settings_env):
    """Writes hand their pushes to the push function through the gateway's Invoke API (as
    under `make run`), instead of delivering them in this process."""
    from chalicelib.live import handoff

    def point_at(endpoint):
        settings_env(live_push_function="fiscaflow-test-live_push", live_push_invoke_endpoint=endpoint)
        handoff.reset()

    point_at(gateway.management_url)
    yield point_at
    handoff.reset()


class Listener:
    """A real WebSocket client; frames are JSON."""

    def __init__(self, ws):
        self.ws = ws

    def send(self, message):
        self.ws.send(json.dumps(message))

    def next(self, timeout=10):
        return json.loads(self.ws.recv(timeout=timeout))

    def until(self, type, timeout=10):
        """Frames up to and including the first of this type."""
        seen = []
        while True:
            seen.append(self.next(timeout))
            if seen[-1]["type"] == type:
                return seen

    def nothing_pending(self):
        """Everything pushed before now has arrived (a ping's pong queues behind it), and
        it was nothing: the pong is the next frame."""
        self.send({"action": "ping"})
        assert self.next()["type"] == "pong"


@pytest.fixture
def listen(gateway):
    from websockets.sync.client import connect

    with ExitStack() as opened:

        def open_for(user):
            return Listener(opened.enter_context(connect(f"{gateway.url}/?token={user['token']}", open_timeout=10)))

        yield open_for
