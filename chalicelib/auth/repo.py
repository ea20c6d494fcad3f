"""SQL of sign-in, sessions, refresh-token rotation, second factors and email tokens."""

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

# --- users -------------------------------------------------------------------------


def find_credentials(conn: psycopg.Connection, *, email: str) -> dict[str, Any] | None:
    return conn.execute(
        """SELECT id, email, password_hash, status, two_factor_enabled, totp_secret_enc, totp_last_step
             FROM users WHERE lower(email) = %s""",
        (email,),
    ).fetchone()


def credentials_by_id(conn: psycopg.Connection, *, user_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        """SELECT id, email, password_hash, status, two_factor_enabled, totp_secret_enc, totp_last_step
             FROM users WHERE id = %s AND status = 'active' FOR UPDATE""",
        (user_id,),
    ).fetchone()


def insert_user(
    conn: psycopg.Connection,
    *,
    email: str,
    password_hash: str,
    first_name: str | None,
    last_name: str | None,
    timezone: str,
    locale: str,
) -> UUID | None:
    """The new user's id, or None when the email is taken (also under a race)."""
    row = conn.execute(
        """INSERT INTO users (email, password_hash, first_name, last_name, timezone, locale, password_changed_at)
           VALUES (%s, %s, %s, %s, %s, %s, now())
           ON CONFLICT DO NOTHING RETURNING id""",
        (email, password_hash, first_name, last_name, timezone, locale),
    ).fetchone()
    return row["id"] if row else None


def set_password_hash(conn: psycopg.Connection, *, user_id: UUID, password_hash: str, changed: bool) -> None:
    conn.execute(
        """UPDATE users SET password_hash = %s,
                  password_changed_at = CASE WHEN %s THEN now() ELSE password_changed_at END
            WHERE id = %s""",
        (password_hash, changed, user_id),
    )


def record_login(conn: psycopg.Connection, *, user_id: UUID) -> None:
    conn.execute("UPDATE users SET last_login_at = now() WHERE id = %s", (user_id,))


def set_email_verified(conn: psycopg.Connection, *, user_id: UUID) -> None:
    conn.execute("UPDATE users SET email_verified = TRUE WHERE id = %s", (user_id,))


# --- sessions ----------------------------------------------------------------------


def insert_session(
    conn: psycopg.Connection,
    *,
    user_id: UUID,
    refresh_digest: str,
    expires_at: datetime,
    device_info: dict[str, Any],
    device_hash: str,
    ip_address: str | None,
    user_agent: str | None,
) -> UUID:
    return conn.execute(
        """INSERT INTO user_sessions (user_id, refresh_token, expires_at, device_info, device_hash,
                                      ip_address, user_agent, last_used_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, now()) RETURNING id""",
        (user_id, refresh_digest, expires_at, Jsonb(device_info), device_hash, ip_address, user_agent),
    ).fetchone()["id"]


def device_seen_before(conn: psycopg.Connection, *, user_id: UUID, device_hash: str) -> bool:
    """Has this user signed in before, and from this device? (a first sign-in is no news)"""
    row = conn.execute(
        """SELECT count(*) AS sessions, count(*) FILTER (WHERE device_hash = %s) AS same_device
             FROM user_sessions WHERE user_id = %s""",
        (device_hash, user_id),
    ).fetchone()
    return row["sessions"] == 0 or row["same_device"] > 0


def rotate_refresh(conn: psycopg.Connection, *, old_digest: str, new_digest: str) -> dict[str, Any] | None:
    """Swap a live session's refresh digest; the old one is kept as spent. None when the
    digest is not a live session's current one (one of two racing refreshes gets None)."""
    row = conn.execute(
        """UPDATE user_sessions s SET refresh_token = %s, last_used_at = now()
             FROM users u
            WHERE s.refresh_token = %s AND u.id = s.user_id AND u.status = 'active'
              AND s.revoked_at IS NULL AND s.expires_at > now()
        RETURNING s.id, s.user_id, s.expires_at""",
        (new_digest, old_digest),
    ).fetchone()
    if row is not None:
        conn.execute(
            "INSERT INTO spent_refresh_tokens (token_digest, session_id) VALUES (%s, %s)", (old_digest, row["id"])
        )
    return row


def session_of_refresh(conn: psycopg.Connection, *, digest: str) -> dict[str, Any] | None:
    """The session a refresh digest belongs to, current or spent, whatever its state."""
    return conn.execute(
        """SELECT s.id, s.user_id, s.revoked_at, s.expires_at, (sp.token_digest IS NOT NULL) AS spent
             FROM user_sessions s
             LEFT JOIN spent_refresh_tokens sp ON sp.session_id = s.id AND sp.token_digest = %s
            WHERE s.refresh_token = %s OR sp.token_digest = %s""",
        (digest, digest, digest),
    ).fetchone()


def revoke_sessions(
    conn: psycopg.Connection,
    *,
    user_id: UUID,
    reason: str,
    only: UUID | None = None,
    keep: UUID | None = None,
) -> list[UUID]:
    """Revoke the user's live sessions (one of them, or all but one); the ids revoked."""
    rows = conn.execute(
        """UPDATE user_sessions SET revoked_at = now(), revoked_reason = %s
            WHERE user_id = %s AND revoked_at IS NULL
              AND (%s::uuid IS NULL OR id = %s::uuid) AND (%s::uuid IS NULL OR id <> %s::uuid)
        RETURNING id""",
        (reason, user_id, only, only, keep, keep),
    ).fetchall()
    return [r["id"] for r in rows]


def live_sessions(conn: psycopg.Connection, *, user_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT id, device_info, host(ip_address) AS ip_address, user_agent, created_at, expires_at
             FROM user_sessions
            WHERE user_id = %s AND revoked_at IS NULL AND expires_at > now()
            ORDER BY created_at DESC, id""",
        (user_id,),
    ).fetchall()


# --- second factor -----------------------------------------------------------------


def set_pending_totp(conn: psycopg.Connection, *, user_id: UUID, secret_enc: bytes) -> None:
    conn.execute(
        "UPDATE users SET totp_secret_enc = %s, totp_last_step = NULL WHERE id = %s AND NOT two_factor_enabled",
        (secret_enc, user_id),
    )


def set_two_factor(conn: psycopg.Connection, *, user_id: UUID, enabled: bool) -> None:
    conn.execute(
        """UPDATE users SET two_factor_enabled = %s,
                  totp_secret_enc = CASE WHEN %s THEN totp_secret_enc ELSE NULL END
            WHERE id = %s""",
        (enabled, enabled, user_id),
    )


def claim_totp_step(conn: psycopg.Connection, *, user_id: UUID, step: int) -> bool:
    """Accept a code's time step once (RFC 6238 §5.2): only a later step than the last."""
    row = conn.execute(
        """UPDATE users SET totp_last_step = %s
            WHERE id = %s AND (totp_last_step IS NULL OR totp_last_step < %s) RETURNING id""",
        (step, user_id, step),
    ).fetchone()
    return row is not None


def replace_recovery_codes(conn: psycopg.Connection, *, user_id: UUID, code_hashes: list[str]) -> None:
    conn.execute("DELETE FROM totp_recovery_codes WHERE user_id = %s", (user_id,))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO totp_recovery_codes (user_id, code_hash) VALUES (%s, %s)",
            [(user_id, h) for h in code_hashes],
        )


def spend_recovery_code(conn: psycopg.Connection, *, user_id: UUID, code_hash: str) -> bool:
    row = conn.execute(
        """UPDATE totp_recovery_codes SET used_at = now()
            WHERE user_id = %s AND code_hash = %s AND used_at IS NULL RETURNING code_hash""",
        (user_id, code_hash),
    ).fetchone()
    return row is not None


def delete_recovery_codes(conn: psycopg.Connection, *, user_id: UUID) -> None:
    conn.execute("DELETE FROM totp_recovery_codes WHERE user_id = %s", (user_id,))


def unused_recovery_codes(conn: psycopg.Connection, *, user_id: UUID) -> int:
    return conn.execute(
        "SELECT count(*) AS n FROM totp_recovery_codes WHERE user_id = %s AND used_at IS NULL", (user_id,)
    ).fetchone()["n"]


# --- email tokens ------------------------------------------------------------------


def insert_email_token(
    conn: psycopg.Connection, *, user_id: UUID, purpose: str, digest: str, expires_at: datetime
) -> None:
    # A new link replaces the older ones of the same purpose: only the latest email works.
    conn.execute(
        "UPDATE auth_email_tokens SET used_at = now() WHERE user_id = %s AND purpose = %s AND used_at IS NULL",
        (user_id, purpose),
    )
    conn.execute(
        "INSERT INTO auth_email_tokens (user_id, purpose, token_digest, expires_at) VALUES (%s, %s, %s, %s)",
        (user_id, purpose, digest, expires_at),
    )


def spend_email_token(conn: psycopg.Connection, *, purpose: str, digest: str) -> UUID | None:
    """The user of a live token of this purpose, marking it used; None if unknown, used or expired."""
    row = conn.execute(
        """UPDATE auth_email_tokens t SET used_at = now()
             FROM users u
            WHERE t.token_digest = %s AND t.purpose = %s AND t.used_at IS NULL AND t.expires_at > now()
              AND u.id = t.user_id AND u.status = 'active'
        RETURNING t.user_id""",
        (digest, purpose),
    ).fetchone()
    return row["user_id"] if row else None
