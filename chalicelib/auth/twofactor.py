"""Two-factor authentication: TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps) with ten
single-use recovery codes.

The secret is stored encrypted (AES-256-GCM, users.totp_secret_enc). A code is accepted
for the current step or one step either side (clock drift), and each step at most once:
users.totp_last_step only moves forward (RFC 6238 §5.2), so a code seen by someone
else is worthless once used. Recovery codes (about 50 bits each) are kept as keyed
hashes (HMAC with the lookup key, bound to the user), shown once at enable."""

import hmac
import secrets
import time
from collections.abc import Callable
from typing import Any, Literal
from uuid import UUID

import psycopg
import pyotp

from chalicelib.auth import ratelimit, repo
from chalicelib.auth.events import audit, notify_security
from chalicelib.auth.models import TotpSetupOut, TwoFactorOut
from chalicelib.core.actor import Actor
from chalicelib.errors import Conflict, NotFound, Unauthorized
from chalicelib.infra import crypto, db

SECRET_CONTEXT = "users.totp_secret"
ISSUER = "FiscaFlow"
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
_STEP_SECONDS = 30

clock: Callable[[], float] = time.time

Factor = Literal["totp", "recovery_code"]


def verify_second_factor(conn: psycopg.Connection, *, user: dict[str, Any], code: str) -> Factor | None:
    """Which factor `code` proved (spending it), or None."""
    code = code.strip()
    if len(code) == 6 and code.isdigit():
        return "totp" if _accept_totp(conn, user=user, code=code) else None
    normalized = _normalize_recovery(code)
    if normalized and repo.spend_recovery_code(
        conn, user_id=user["id"], code_hash=_recovery_hash(user["id"], normalized)
    ):
        return "recovery_code"
    return None


def _accept_totp(conn: psycopg.Connection, *, user: dict[str, Any], code: str) -> bool:
    if not user["totp_secret_enc"]:
        return False
    totp = pyotp.TOTP(crypto.decrypt(user["totp_secret_enc"], context=SECRET_CONTEXT))
    now_step = int(clock() // _STEP_SECONDS)
    for step in (now_step, now_step - 1, now_step + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return repo.claim_totp_step(conn, user_id=user["id"], step=step)
    return False


def _normalize_recovery(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _recovery_hash(user_id: UUID, normalized: str) -> str:
    return crypto.lookup_hash(f"totp-recovery:{user_id}:{normalized}")


def _new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def account_subject(email: str) -> str:
    """The rate limiter's name for an account: keyed hash, so Redis holds no addresses."""
    return crypto.lookup_hash(f"account:{email.lower()}")[:32]


def _locked_user(conn: psycopg.Connection, user_id: UUID) -> dict[str, Any]:
    user = repo.credentials_by_id(conn, user_id=user_id)
    if user is None:
        raise NotFound("User not found")
    return user


def setup(*, actor: Actor) -> TotpSetupOut:
    """Start 2FA: a new secret, not yet in force until a code confirms it."""
    secret = pyotp.random_base32(length=32)
    with db.transaction() as conn:
        user = _locked_user(conn, actor.user_id)
        if user["two_factor_enabled"]:
            raise Conflict("Two-factor authentication is already on; disable it first")
        repo.set_pending_totp(conn, user_id=user["id"], secret_enc=crypto.encrypt(secret, context=SECRET_CONTEXT))
        audit(conn, "auth.2fa_setup", actor=actor, user_id=user["id"], resource_type="user", resource_id=user["id"])
        uri = pyotp.TOTP(secret).provisioning_uri(name=user["email"], issuer_name=ISSUER)
    return TotpSetupOut(secret=secret, otpauth_uri=uri)


def enable(*, actor: Actor, code: str) -> TwoFactorOut:
    """Turn 2FA on once a code from the new secret checks out; returns the recovery codes."""
    codes = _new_recovery_codes()
    with db.transaction() as conn:
        user = _locked_user(conn, actor.user_id)
        if user["two_factor_enabled"]:
            raise Conflict("Two-factor authentication is already on")
        if not user["totp_secret_enc"]:
            raise Conflict("Call /auth/2fa/setup first")
        with ratelimit.sign_in_attempt(account=account_subject(user["email"])) as limited:
            accepted = _accept_totp(conn, user=user, code=code.strip())
            if not accepted:
                limited.failed()
        if accepted:
            repo.set_two_factor(conn, user_id=user["id"], enabled=True)
            repo.replace_recovery_codes(
                conn,
                user_id=user["id"],
                code_hashes=[_recovery_hash(user["id"], _normalize_recovery(c)) for c in codes],
            )
            notify_security(conn, user_id=user["id"], event="two_factor_enabled")
        audit(
            conn,
            "auth.2fa_enabled",
            actor=actor,
            user_id=user["id"],
            resource_type="user",
            resource_id=user["id"],
            success=accepted,
            error=None if accepted else "wrong code",
        )
    if not accepted:
        raise Unauthorized("The code is not valid", code="invalid_credentials")
    return TwoFactorOut(enabled=True, recovery_codes=codes)


def disable(*, actor: Actor, code: str) -> TwoFactorOut:
    """Turn 2FA off with a current code (or a recovery code)."""
    with db.transaction() as conn:
        user = _locked_user(conn, actor.user_id)
        if not user["two_factor_enabled"]:
            raise Conflict("Two-factor authentication is not on")
        with ratelimit.sign_in_attempt(account=account_subject(user["email"])) as limited:
            factor = verify_second_factor(conn, user=user, code=code)
            if factor is None:
                limited.failed()
        if factor is not None:
            repo.set_two_factor(conn, user_id=user["id"], enabled=False)
            repo.delete_recovery_codes(conn, user_id=user["id"])
            notify_security(conn, user_id=user["id"], event="two_factor_disabled")
        audit(
            conn,
            "auth.2fa_disabled",
            actor=actor,
            user_id=user["id"],
            resource_type="user",
            resource_id=user["id"],
            data={"factor": factor},
            success=factor is not None,
            error=None if factor else "wrong code",
        )
    if factor is None:
        raise Unauthorized("The code is not valid", code="invalid_credentials")
    return TwoFactorOut(enabled=False)
