"""OpenSearch 2.x behind the calls the search code makes in elasticsearch-py 8's keyword
style (`search(index=, query=, aggs=…)`, `bulk(operations=)`, `indices.create(settings=,
mappings=)`): opensearch-py takes the same requests as one `body`. Only the calls the
search adapter uses are translated; anything else passes straight through.

elasticsearch-py 8 refuses a server that does not send `X-Elastic-Product`, so an
OpenSearch cluster (the local node of tools/search-node, Amazon OpenSearch) needs
its own client: `SEARCH_FLAVOUR=opensearch`."""

from typing import Any


class _Indices:
    def __init__(self, indices: Any):
        self._indices = indices

    def create(self, *, index: str, settings=None, mappings=None, aliases=None, **params) -> Any:
        body = {k: v for k, v in (("settings", settings), ("mappings", mappings), ("aliases", aliases)) if v}
        return self._indices.create(index=index, body=body, **params)

    def update_aliases(self, *, actions: list[dict[str, Any]], **params) -> Any:
        return self._indices.update_aliases(body={"actions": actions}, **params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._indices, name)


class OpenSearchClient:
    def __init__(self, client: Any, *, request_timeout: float | None = None):
        self._client = client
        self._timeout = request_timeout
        self.indices = _Indices(client.indices)

    def _params(self, params: dict[str, Any]) -> dict[str, Any]:
        if self._timeout is not None:
            params.setdefault("request_timeout", self._timeout)
        return params

    def options(self, *, request_timeout: float) -> "OpenSearchClient":
        return OpenSearchClient(self._client, request_timeout=request_timeout)

    def search(self, *, index: str, **body) -> Any:
        return self._client.search(index=index, body=body, **self._params({}))

    def bulk(self, *, operations: list[dict[str, Any]], **params) -> Any:
        return self._client.bulk(body=operations, **self._params(params))

    def ping(self) -> bool:
        return self._client.ping(**self._params({}))

    def close(self) -> None:
        self._client.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def connect(url: str, *, timeout: float, api_key: str | None) -> OpenSearchClient:
    from opensearchpy import OpenSearch

    headers = {"Authorization": f"ApiKey {api_key}"} if api_key else None
    return OpenSearchClient(
        OpenSearch(hosts=[url], timeout=timeout, max_retries=0, retry_on_timeout=False, headers=headers, pool_maxsize=8)
    )


def unavailable_errors() -> tuple[type[BaseException], ...]:
    from opensearchpy.exceptions import OpenSearchException

    return (OpenSearchException,)
