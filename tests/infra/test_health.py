import json
import socket
import subprocess
import time

import pytest

from chalicelib.infra import cache
from chalicelib.infra.settings import get_settings


def test_health_with_every_dependency_up(client):
    r = client.http.get("/health")
    assert r.status_code == 200
    assert json.loads(r.body) == {
        "status": "ok",
        "dependencies": {"postgres": "ok", "redis": "ok", "elasticsearch": "not_configured", "storage": "ok"},
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def own_redis(monkeypatch):
    """A Redis server of this test's own, so stopping it disturbs nobody else."""
    port = _free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    settings = get_settings().model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
    monkeypatch.setattr("chalicelib.infra.cache.get_settings", lambda: settings)
    cache.reset()
    yield proc
    proc.kill()
    proc.wait()
    cache.reset()


def test_health_is_degraded_when_redis_stops_and_the_api_keeps_answering(client, own_redis):
    assert json.loads(client.http.get("/health").body)["dependencies"]["redis"] == "ok"

    own_redis.kill()
    own_redis.wait()
    cache.reset()
    r = client.http.get("/health")

    assert r.status_code == 200
    body = json.loads(r.body)
    assert body["status"] == "degraded"
    assert body["dependencies"]["redis"] == "down"
    assert body["dependencies"]["postgres"] == "ok"


def test_health_is_503_when_postgres_is_down(client, monkeypatch):
    monkeypatch.setattr("chalicelib.system.health.db.ping", lambda: False)
    r = client.http.get("/health")
    assert r.status_code == 503
    assert json.loads(r.body)["dependencies"]["postgres"] == "down"
