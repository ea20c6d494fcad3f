"""Issue 16, item 10: the 30 s session cache could be rewritten by a check that read
"active" just before a revocation committed, so the revoked token kept working. A
revocation now leaves a marker that a check's cache write can never overwrite."""

import threading
from contextlib import contextmanager

from chalicelib.auth import sessions
from chalicelib.auth.session_lifecycle import revoke_other_sessions
from chalicelib.infra import cache, db


class _RevokeRightAfterTheRead:
    """Stands in for `db` inside the session check: once its PostgreSQL read is done (and
    before it writes the cache), the session is revoked and the revocation committed."""

    def __init__(self, user_id):
        self.user_id = user_id
        self.fired = False

    def __getattr__(self, name):
        return getattr(db, name)

    @contextmanager
    def transaction(self):
        with db.transaction() as conn:
            yield conn
        if not self.fired:
            self.fired = True
            worker = threading.Thread(target=self._revoke)  # its own unit of work, as another request's
            worker.start()
            worker.join()

    def _revoke(self):
        with db.transaction() as conn:
            revoke_other_sessions(conn, user_id=self.user_id, keep=None, reason="test")


def test_a_check_racing_a_revocation_cannot_cache_the_session_as_active(client, make_user, monkeypatch):
    user = make_user()
    monkeypatch.setattr(sessions, "db", _RevokeRightAfterTheRead(user["id"]))

    raced = client.http.get("/users/me", headers=user["headers"])  # read "active", then the revocation won
    after = client.http.get("/users/me", headers=user["headers"])

    assert raced.status_code == 200  # it was checked before the revocation committed
    assert after.status_code == 401
    assert cache.get_json(f"session:{user['session_id']}") == {"revoked": True}


def test_a_revoked_session_is_refused_while_marked_and_after(client, make_user, redis_clean):
    user = make_user()
    assert client.http.get("/users/me", headers=user["headers"]).status_code == 200  # cached as active

    r = client.http.post("/auth/logout", headers=user["headers"])
    assert r.status_code == 204

    assert client.http.get("/users/me", headers=user["headers"]).status_code == 401
    redis_clean.delete(f"{cache.key('')}session:{user['session_id']}")  # the marker expired
    assert client.http.get("/users/me", headers=user["headers"]).status_code == 401
    assert cache.get_json(f"session:{user['session_id']}") is None  # refusals are never cached
