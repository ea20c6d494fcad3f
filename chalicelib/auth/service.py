"""Registration, sign-in and password change: the use cases that check a password."""

from dataclasses import dataclass
from typing import Any

import psycopg

from chalicelib.auth import email_links, ratelimit, repo
from chalicelib.auth.events import audit, notify_security
from chalicelib.auth.models import AuthOut, LoginIn, RegisterIn
from chalicelib.auth.passwords import hash_password, needs_rehash, verify_password
from chalicelib.auth.session_lifecycle import revoke_other_sessions, start_session
from chalicelib.auth.twofactor import account_subject, verify_second_factor
from chalicelib.core.actor import Actor
from chalicelib.errors import Conflict, Unauthorized, ValidationFailed
from chalicelib.infra import db
from chalicelib.users.models import UserOut
from chalicelib.users.service import load_user


def _ip_subject(actor: Actor) -> str:
    return actor.ip_address or "unknown"


def register(*, actor: Actor, data: RegisterIn) -> AuthOut:
    """Create an account and sign it in; a verification link goes to the address."""
    ratelimit.hit(ratelimit.registration_limit(), _ip_subject(actor))
    password_hash = hash_password(data.password)  # before the transaction: no lock held while hashing
    with db.transaction() as conn:
        user_id = repo.insert_user(
            conn,
            email=data.email,
            password_hash=password_hash,
            first_name=data.first_name,
            last_name=data.last_name,
            timezone=data.timezone,
            locale=data.locale,
        )
        if user_id is None:
            raise Conflict("An account with this email already exists")
        session_id, tokens, _ = start_session(conn, actor=actor, user_id=user_id, device_name=data.device_name)
        email_links.send_verification(conn, user_id=user_id, email=data.email)
        audit(
            conn,
            "auth.register",
            actor=actor,
            user_id=user_id,
            resource_type="user",
            resource_id=user_id,
            data={"email": data.email, "session_id": session_id},
        )
        user = load_user(conn, user_id=user_id)
    return AuthOut(user=UserOut.model_validate(user), **tokens.model_dump())


@dataclass
class _Attempt:
    user: dict[str, Any] | None
    failure: str | None = None  # invalid_credentials | totp_required
    factor: str | None = None


def login(*, actor: Actor, data: LoginIn) -> AuthOut:
    """Check the password (and second factor) and open a session."""
    account = account_subject(data.email)
    # Reserved before the password is checked, so concurrent guesses cannot all slip
    # under the limit; given back unless the check fails.
    with ratelimit.sign_in_attempt(account=account, ip=_ip_subject(actor)) as limited:
        result: AuthOut | None = None
        with db.transaction() as conn:
            attempt = _authenticate(conn, email=data.email, password=data.password, code=data.totp_code)
            if attempt.failure is None:
                result = _sign_in(
                    conn, actor=actor, attempt=attempt, password=data.password, device_name=data.device_name
                )
            else:
                # Committed although the answer is 401: failed sign-ins are what the trail is for.
                audit(
                    conn,
                    "auth.login",
                    actor=actor,
                    user_id=attempt.user["id"] if attempt.user else None,
                    data={"email": data.email},
                    success=False,
                    error=attempt.failure,
                )
        if attempt.failure == "totp_required":
            raise Unauthorized("A two-factor code is required", code="totp_required")
        if attempt.failure is not None:
            limited.failed()
            raise Unauthorized("The email or password is not correct", code="invalid_credentials")
    ratelimit.clear(ratelimit.login_account_limit(), account)
    return result


def _sign_in(
    conn: psycopg.Connection, *, actor: Actor, attempt: "_Attempt", password: str, device_name: str | None
) -> AuthOut:
    user = attempt.user
    if needs_rehash(user["password_hash"]):
        repo.set_password_hash(conn, user_id=user["id"], password_hash=hash_password(password), changed=False)
    repo.record_login(conn, user_id=user["id"])
    session_id, tokens, new_device = start_session(conn, actor=actor, user_id=user["id"], device_name=device_name)
    if new_device:
        where = f" ({device_name})" if device_name else ""
        notify_security(conn, user_id=user["id"], event="new_device", data={"session_id": session_id}, where=where)
    if attempt.factor == "recovery_code":
        left = repo.unused_recovery_codes(conn, user_id=user["id"])
        notify_security(conn, user_id=user["id"], event="recovery_code_used", left=left)
    audit(
        conn,
        "auth.login",
        actor=actor,
        user_id=user["id"],
        resource_id=session_id,
        data={"email": user["email"], "second_factor": attempt.factor, "new_device": new_device},
    )
    return AuthOut(user=UserOut.model_validate(load_user(conn, user_id=user["id"])), **tokens.model_dump())


def _authenticate(conn: psycopg.Connection, *, email: str, password: str, code: str | None) -> _Attempt:
    user = repo.find_credentials(conn, email=email)
    active = user is not None and user["status"] == "active"
    # Unknown, inactive or wrong: one argon2 verification either way, one answer.
    if not verify_password(user["password_hash"] if active else None, password):
        return _Attempt(user=user if active else None, failure="invalid_credentials")
    if not user["two_factor_enabled"]:
        return _Attempt(user=user)
    if not code or not code.strip():
        return _Attempt(user=user, failure="totp_required")
    factor = verify_second_factor(conn, user=user, code=code)
    if factor is None:
        return _Attempt(user=user, failure="invalid_credentials")
    return _Attempt(user=user, factor=factor)


def change_password(*, actor: Actor, current_password: str, new_password: str) -> None:
    """Change the caller's password; every other session is signed out."""
    with db.transaction() as conn:
        user = repo.credentials_by_id(conn, user_id=actor.user_id)
        if user is None:
            raise Unauthorized("This session has been signed out", code="token_revoked")
    with ratelimit.sign_in_attempt(account=account_subject(user["email"]), ip=_ip_subject(actor)) as limited:
        if not verify_password(user["password_hash"], current_password):
            with db.transaction() as conn:
                audit(
                    conn,
                    "auth.password_changed",
                    actor=actor,
                    user_id=user["id"],
                    resource_type="user",
                    resource_id=user["id"],
                    success=False,
                    error="wrong current password",
                )
            limited.failed()
            raise Unauthorized("The current password is not correct", code="invalid_credentials")
    if new_password == current_password:
        raise ValidationFailed.field("new_password", "must differ from the current password")
    new_hash = hash_password(new_password)
    with db.transaction() as conn:
        repo.set_password_hash(conn, user_id=user["id"], password_hash=new_hash, changed=True)
        revoked = revoke_other_sessions(conn, user_id=user["id"], keep=actor.session_id, reason="password_changed")
        audit(
            conn,
            "auth.password_changed",
            actor=actor,
            user_id=user["id"],
            resource_type="user",
            resource_id=user["id"],
            data={"sessions_revoked": revoked},
        )
        notify_security(conn, user_id=user["id"], event="password_changed")


def confirm_identity(*, actor: Actor, password: str | None, totp_code: str | None, purpose: str) -> None:
    """Re-check the caller's password (and second factor when on) before an irreversible act; 401 otherwise."""
    with db.transaction() as conn:
        user = repo.credentials_by_id(conn, user_id=actor.user_id)
    if user is None:
        raise Unauthorized("This session has been signed out", code="token_revoked")
    with ratelimit.sign_in_attempt(account=account_subject(user["email"]), ip=_ip_subject(actor)) as limited:
        # A missing password costs one verification too: the answer takes the same time.
        if not verify_password(user["password_hash"] if password else None, password or ""):
            failure, message = "invalid_credentials", "The password is not correct"
        elif user["two_factor_enabled"] and not (totp_code and totp_code.strip()):
            failure, message = "totp_required", "A two-factor code is required"
        elif user["two_factor_enabled"]:
            with db.transaction() as conn:
                # Locked again: the code's step is claimed against the current row.
                locked = repo.credentials_by_id(conn, user_id=actor.user_id)
                factor = locked and verify_second_factor(conn, user=locked, code=totp_code)
            failure, message = (None, None) if factor else ("invalid_credentials", "The two-factor code is not valid")
        else:
            failure, message = None, None
        if failure is None:
            return
        with db.transaction() as conn:
            audit(conn, "auth.reauthenticate", actor=actor, user_id=user["id"], resource_type="user",
                  resource_id=user["id"], data={"purpose": purpose}, success=False, error=failure)  # fmt: skip
        if failure == "invalid_credentials":
            limited.failed()
        raise Unauthorized(message, code=failure)
