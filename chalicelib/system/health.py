"""Dependency checks behind GET /health."""

import urllib.request

from chalicelib.infra import cache, db, storage
from chalicelib.infra.settings import get_settings


def _elasticsearch_state() -> str:
    url = get_settings().elasticsearch_url
    if not url:
        return "not_configured"
    if not url.startswith(("http://", "https://")):
        return "down"
    try:
        with urllib.request.urlopen(url, timeout=1.5) as response:  # noqa: S310 (scheme checked above)
            return "ok" if response.status < 500 else "down"
    except Exception:
        return "down"


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
