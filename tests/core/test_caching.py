"""The one read-through cache: its key scheme, a hit, a miss after the generation moves,
and no cache at all while Redis is down."""

from uuid import UUID, uuid4

from chalicelib.core import caching
from chalicelib.infra import cache, db
from chalicelib.infra.settings import get_settings


def test_the_key_is_area_user_generation_and_a_hash_of_the_parameters():
    user = UUID(int=1)

    key = caching.cache_key("accounts", user, 3, {"limit": 5, "cursor": None})

    assert key.startswith(f"cache:api:accounts:{user}:3:")
    assert key == caching.cache_key("accounts", user, 3, {"cursor": None, "limit": 5})  # order does not matter
    assert key != caching.cache_key("accounts", user, 4, {"limit": 5, "cursor": None})


def test_an_answer_is_kept_until_the_users_generation_is_bumped(db_url, redis_clean):
    user, calls = uuid4(), []

    def compute():
        calls.append(1)
        return {"n": len(calls)}

    assert caching.read_through("area", user_id=user, params={}, compute=compute) == {"n": 1}
    assert caching.read_through("area", user_id=user, params={}, compute=compute) == {"n": 1}
    keys = list(redis_clean.scan_iter(match=f"{get_settings().redis_key_prefix}cache:api:area:{user}:0:*"))
    assert len(keys) == 1 and 0 < redis_clean.ttl(keys[0]) <= caching.DEFAULT_TTL_SECONDS

    with db.transaction():
        caching.invalidate_users([user])

    assert caching.read_through("area", user_id=user, params={}, compute=compute) == {"n": 2}


def test_redis_down_computes_every_time_and_fails_nothing(monkeypatch, redis_clean):
    settings = get_settings().model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    monkeypatch.setattr("chalicelib.infra.cache.get_settings", lambda: settings)
    cache.reset()
    calls = []
    try:
        for _ in range(2):
            caching.read_through("area", user_id=uuid4(), params={}, compute=lambda: calls.append(1) or {})
    finally:
        monkeypatch.undo()
        cache.reset()

    assert len(calls) == 2
