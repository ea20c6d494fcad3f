"""The Elasticsearch client behind the search adapter: created lazily (importing the
library costs ~0.3 s of cold start), reused across invocations of a warm function.

`search_flavour` keeps the client choice here alone: "opensearch" gets opensearch-py
behind the same calls (infra/opensearch_compat.py); nothing else changes."""

import threading
from typing import Any

from chalicelib.infra.settings import get_settings

_client: Any = None
_lock = threading.Lock()


def configured() -> bool:
    return bool(get_settings().elasticsearch_url)


def alias(kind: str) -> str:
    """The alias every read and write goes through: transactions, categories, logs."""
    return f"{get_settings().elasticsearch_index_prefix}-{kind}"


def client() -> Any:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                settings = get_settings()
                if settings.search_flavour == "opensearch":
                    from chalicelib.infra import opensearch_compat

                    key = settings.elasticsearch_api_key
                    _client = opensearch_compat.connect(
                        settings.elasticsearch_url,
                        timeout=settings.elasticsearch_timeout_seconds,
                        api_key=key.get_secret_value() if key is not None else None,
                    )
                    return _client
                if settings.search_flavour != "elasticsearch":
                    raise RuntimeError(f"search flavour {settings.search_flavour!r} is not available")
                from elasticsearch import Elasticsearch

                kwargs: dict[str, Any] = {
                    "request_timeout": settings.elasticsearch_timeout_seconds,
                    # One attempt: callers decide (search falls back to SQL, sync retries next run).
                    "max_retries": 0,
                    "retry_on_timeout": False,
                }
                if settings.elasticsearch_api_key is not None:
                    kwargs["api_key"] = settings.elasticsearch_api_key.get_secret_value()
                _client = Elasticsearch(settings.elasticsearch_url, **kwargs)
    return _client


def reset() -> None:
    global _client
    with _lock:
        if _client is not None:
            _client.close()
        _client = None


def unavailable_errors() -> tuple[type[BaseException], ...]:
    """What a down, slow or refusing cluster raises (the whole request failed): the one rule
    for "the node is unavailable, fall back" — search and analytics answer from PostgreSQL,
    the outbox drain retries later. Anything else is a bug and is not hidden by a fallback."""
    if get_settings().search_flavour == "opensearch":
        from chalicelib.infra import opensearch_compat

        return opensearch_compat.unavailable_errors()
    from elastic_transport import TransportError
    from elasticsearch import ApiError

    return (TransportError, ApiError)


def ping() -> str:
    """GET /health's view: ok, down or not_configured."""
    if not configured():
        return "not_configured"
    try:
        return "ok" if client().options(request_timeout=1.5).ping() else "down"
    except Exception:
        return "down"
