"""Email verification and password reset: single-use, expiring links whose tokens are
stored as SHA-256 digests (auth_email_tokens); a new link voids the older ones."""

import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID

import psycopg

from chalicelib.auth import mailer, ratelimit, repo
from chalicelib.auth.events import audit, notify_security
from chalicelib.auth.models import AcceptedOut, EmailVerifiedOut
from chalicelib.auth.passwords import hash_password
from chalicelib.auth.session_lifecycle import revoke_other_sessions
from chalicelib.auth.timing import answer_no_sooner_than
from chalicelib.auth.twofactor import account_subject
from chalicelib.core.actor import Actor
from chalicelib.errors import ValidationFailed
from chalicelib.infra import crypto, db
from chalicelib.infra.settings import get_settings

VERIFY = "verify_email"
RESET = "password_reset"


def _issue(conn: psycopg.Connection, *, user_id: UUID, purpose: str, ttl: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    repo.insert_email_token(
        conn, user_id=user_id, purpose=purpose, digest=crypto.token_digest(token), expires_at=datetime.now(UTC) + ttl
    )
    return token


def send_verification(conn: psycopg.Connection, *, user_id: UUID, email: str) -> None:
    """Create a verification link for a new address and send it once the transaction commits."""
    hours = get_settings().email_verification_ttl_hours
    token = _issue(conn, user_id=user_id, purpose=VERIFY, ttl=timedelta(hours=hours))
    link = mailer.link("/verify-email", token)
    mailer.send_after_commit(
        mailer.EmailMessage(
            to=email,
            subject="Confirm your email address",
            text=f"Welcome to FiscaFlow. Confirm your address within {hours} hours:\n\n{link}\n",
            link=link,
        )
    )


def verify_email(*, actor: Actor, token: str) -> EmailVerifiedOut:
    """Spend a verification link: the address is confirmed."""
    with db.transaction() as conn:
        user_id = repo.spend_email_token(conn, purpose=VERIFY, digest=crypto.token_digest(token))
        if user_id is None:
            raise ValidationFailed.field("token", "is invalid, used or expired")
        repo.set_email_verified(conn, user_id=user_id)
        audit(conn, "auth.email_verified", actor=actor, user_id=user_id, resource_type="user", resource_id=user_id)
    return EmailVerifiedOut(email_verified=True)


def request_password_reset(*, actor: Actor, email: str) -> AcceptedOut:
    """Send a reset link if the address has an account; the answer is the same either way, and as fast."""
    ratelimit.hit(ratelimit.password_reset_ip_limit(), actor.ip_address or "unknown")
    ratelimit.hit(ratelimit.password_reset_limit(), account_subject(email))
    settings = get_settings()
    with answer_no_sooner_than(settings.password_reset_answer_ms / 1000, what="password reset request"):
        minutes = settings.password_reset_ttl_minutes
        with db.transaction() as conn:
            user = repo.find_credentials(conn, email=email)
            if user is not None and user["status"] == "active":
                token = _issue(conn, user_id=user["id"], purpose=RESET, ttl=timedelta(minutes=minutes))
                link = mailer.link("/reset-password", token)
                mailer.send_after_commit(
                    mailer.EmailMessage(
                        to=user["email"],
                        subject="Reset your FiscaFlow password",
                        text=(
                            f"Someone asked to reset your password. The link works once, for {minutes} minutes:\n\n"
                            f"{link}\n\nIf it was not you, ignore this email; your password stays as it is.\n"
                        ),
                        link=link,
                    )
                )
                audit(
                    conn,
                    "auth.password_reset_requested",
                    actor=actor,
                    user_id=user["id"],
                    resource_type="user",
                    resource_id=user["id"],
                )
    return AcceptedOut(message="If an account uses this address, a reset link is on its way.")


def confirm_password_reset(*, actor: Actor, token: str, new_password: str) -> None:
    """Spend a reset link: new password, every session signed out."""
    with db.transaction() as conn:
        user_id = repo.spend_email_token(conn, purpose=RESET, digest=crypto.token_digest(token))
        if user_id is None:
            raise ValidationFailed.field("token", "is invalid, used or expired")
        # Hashed only once the token checked out, so garbage tokens cost no argon2 time.
        repo.set_password_hash(conn, user_id=user_id, password_hash=hash_password(new_password), changed=True)
        # The link reached the mailbox, which is what verification proves.
        repo.set_email_verified(conn, user_id=user_id)
        revoked = revoke_other_sessions(conn, user_id=user_id, keep=None, reason="password_reset")
        audit(
            conn,
            "auth.password_reset",
            actor=actor,
            user_id=user_id,
            resource_type="user",
            resource_id=user_id,
            data={"sessions_revoked": revoked},
        )
        notify_security(conn, user_id=user_id, event="password_changed")
