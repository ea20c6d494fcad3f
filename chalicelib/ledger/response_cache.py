"""The API response cache for list and detail GETs (seed: `cache:api:{endpoint}:{user_id}:
{params_hash}`, 300 s).

The caller's cache generation is hashed with the parameters, and it is read BEFORE the
answer is computed: a write commits, then bumps the generation of everyone who can see
it (invalidation.invalidate_visible_to), so an answer computed from the old data can
only ever be stored under the old generation, which nobody reads again. With Redis
down the generation is unknown and the answer comes straight from PostgreSQL."""

import hashlib
import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

from chalicelib.infra import cache, invalidation

TTL_SECONDS = 300


def cache_name(endpoint: str, user_id: UUID, params: dict[str, Any], generation: int) -> str:
    canonical = json.dumps({"generation": generation, **params}, sort_keys=True, default=str, separators=(",", ":"))
    return f"cache:api:{endpoint}:{user_id}:{hashlib.sha256(canonical.encode()).hexdigest()}"


def cached(endpoint: str, *, user_id: UUID, params: dict[str, Any], compute: Callable[[], Any]) -> Any:
    """The JSON answer for (endpoint, user, params): from Redis when fresh, else computed and kept."""
    generation = invalidation.user_generation(user_id)
    if generation is None:
        return compute()
    name = cache_name(endpoint, user_id, params, generation)
    hit = cache.get_json(name)
    if hit is not None:
        return hit
    value = compute()
    cache.set_json(name, value, TTL_SECONDS)
    return value
