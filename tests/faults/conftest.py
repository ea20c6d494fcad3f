"""Fixtures of the fault suite: the app in this process, pointed at private servers that
a test may stop and start (tests/faults/processes.py)."""

import pytest

from tests.faults.processes import MotoServer, PostgresCluster, RedisServer


def _reset_adapters() -> None:
    """Forget settings and every client built from them, so the next use reads the env again."""
    from chalicelib.infra import cache, db, storage
    from chalicelib.infra.settings import get_settings

    get_settings.cache_clear()
    db.close_pool()
    db._down_until = 0.0
    cache.reset()
    storage.reset()


@pytest.fixture
def point_app_at(monkeypatch):
    """point_app_at(REDIS_URL=..., ...): the app (settings, pool, clients) uses these from now
    on; the run's own settings come back after the test."""

    def point(**env: str) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        _reset_adapters()

    yield point
    monkeypatch.undo()
    _reset_adapters()


@pytest.fixture
def private_redis():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_s3():
    server = MotoServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def private_postgres():
    cluster = PostgresCluster()
    cluster.init()
    cluster.start()
    yield cluster
    cluster.destroy()
