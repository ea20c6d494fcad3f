"""Is a session still good? Checked on every authenticated request.

Redis caches the answer for a short time; PostgreSQL is the truth. Revocation deletes
the cache entry right after commit, so a revoked session's access token stops working
on the next request. With Redis down every check goes to PostgreSQL: never "allowed
because the cache is down"."""

from uuid import UUID

from chalicelib.infra import cache, db

SESSION_CACHE_TTL_SECONDS = 30


def _cache_name(session_id: UUID) -> str:
    return f"session:{session_id}"


def session_is_active(*, user_id: UUID, session_id: UUID) -> bool:
    cached = cache.get_json(_cache_name(session_id))
    if cached is not None:
        return cached == {"user_id": str(user_id), "active": True}
    with db.transaction() as conn:
        row = conn.execute(
            """SELECT s.user_id FROM user_sessions s JOIN users u ON u.id = s.user_id
                WHERE s.id = %s AND s.revoked_at IS NULL AND s.expires_at > now() AND u.status = 'active'""",
            (session_id,),
        ).fetchone()
    active = row is not None and row["user_id"] == user_id
    if active:
        cache.set_json(_cache_name(session_id), {"user_id": str(user_id), "active": True}, SESSION_CACHE_TTL_SECONDS)
    return active


def forget_sessions(*session_ids: UUID) -> None:
    """Drop cached session state once the revoking transaction has committed."""
    names = [_cache_name(s) for s in session_ids]
    db.after_commit(lambda: cache.delete(*names))
