"""Mechanisms every domain shares: keyset paging, dates, the API response cache.

`core` imports only the standard library, pydantic, `chalicelib.errors` and
`chalicelib.infra`: never a domain and never `api`."""
