"""Is a session still good? Checked on every authenticated request.

Redis caches the answer for a short time; PostgreSQL is the truth. With Redis down every
check goes to PostgreSQL: never "allowed because the cache is down".

Revocation must win over the cache. Deleting the entry after commit was not enough: a
check that read "active" just before the revocation committed could write its answer
back after the delete, and the revoked token then worked for another 30 s. So a
revocation leaves a marker ("ask PostgreSQL") before and after it commits, for longer
than a check can take, and a check caches only where nothing is (SET NX): it can never
overwrite the marker. A marked session is checked in PostgreSQL until the marker expires."""

from uuid import UUID

from chalicelib.infra import cache, db

SESSION_CACHE_TTL_SECONDS = 30
# Longer than any check takes between its read and its cache write.
REVOKED_MARKER_TTL_SECONDS = 120
_REVOKED = {"revoked": True}


def _cache_name(session_id: UUID) -> str:
    return f"session:{session_id}"


def session_is_active(*, user_id: UUID, session_id: UUID) -> bool:
    cached = cache.get_json(_cache_name(session_id))
    if cached is not None and cached != _REVOKED:
        return cached == {"user_id": str(user_id), "active": True}
    with db.transaction() as conn:
        row = conn.execute(
            """SELECT s.user_id FROM user_sessions s JOIN users u ON u.id = s.user_id
                WHERE s.id = %s AND s.revoked_at IS NULL AND s.expires_at > now() AND u.status = 'active'""",
            (session_id,),
        ).fetchone()
    active = row is not None and row["user_id"] == user_id
    if active and cached is None:
        cache.add_json(_cache_name(session_id), {"user_id": str(user_id), "active": True}, SESSION_CACHE_TTL_SECONDS)
    return active


def forget_sessions(*session_ids: UUID) -> None:
    """Mark these sessions "ask PostgreSQL" now and again once the revoking transaction has
    committed (the second write restarts the marker's time from the commit)."""
    names = [_cache_name(s) for s in session_ids]

    def mark() -> None:
        for name in names:
            cache.set_json(name, _REVOKED, REVOKED_MARKER_TTL_SECONDS)

    mark()
    db.after_commit(mark)
