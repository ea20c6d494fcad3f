"""Dependency checks behind GET /health."""

from chalicelib.infra import cache, db, storage


def _elasticsearch_state() -> str:
    from chalicelib.infra.es_client import ping

    return ping()


def check_health() -> tuple[int, dict]:
    dependencies = {
        "postgres": "ok" if db.ping() else "down",
        "redis": "ok" if cache.ping() else "down",
        "elasticsearch": _elasticsearch_state(),
        "storage": "ok" if storage.ping() else "down",
    }
    if dependencies["postgres"] != "ok":
        return 503, {"status": "down", "dependencies": dependencies}
    degraded = any(v == "down" for k, v in dependencies.items() if k != "postgres")
    return 200, {"status": "degraded" if degraded else "ok", "dependencies": dependencies}
