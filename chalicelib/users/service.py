"""The signed-in user's own profile. Phone and date of birth are kept encrypted
(users.phone_enc / date_of_birth_enc, AES-256-GCM); the seed's clear columns stay NULL."""

from datetime import date
from typing import Any
from uuid import UUID

import psycopg

from chalicelib.audit.service import record_audit
from chalicelib.core.actor import Actor
from chalicelib.core.caching import invalidate_users
from chalicelib.errors import NotFound
from chalicelib.infra import crypto, db
from chalicelib.users import repo
from chalicelib.users.models import UserPatch

PHONE_CONTEXT = "users.phone"
BIRTH_DATE_CONTEXT = "users.date_of_birth"


def _profile(row: dict[str, Any]) -> dict[str, Any]:
    """A users row (with the encrypted columns) as the owner sees it: decrypted, defaults filled."""
    phone = crypto.decrypt(row["phone_enc"], context=PHONE_CONTEXT) if row["phone_enc"] else None
    birth = row["date_of_birth_enc"]
    return {
        "id": row["id"],
        "email": row["email"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "phone": phone,
        "date_of_birth": date.fromisoformat(crypto.decrypt(birth, context=BIRTH_DATE_CONTEXT)) if birth else None,
        "timezone": row["timezone"] or "UTC",
        "locale": row["locale"] or "en-US",
        "role": row["role"],
        "status": row["status"],
        "email_verified": bool(row["email_verified"]),
        "two_factor_enabled": bool(row["two_factor_enabled"]),
        "created_at": row["created_at"],
    }


def load_user(conn: psycopg.Connection, *, user_id: UUID) -> dict[str, Any]:
    row = repo.get_user(conn, user_id=user_id)
    if row is None:
        raise NotFound("User not found")
    return _profile(row)


def get_me(*, user_id: UUID) -> dict[str, Any]:
    """The caller's profile."""
    with db.transaction() as conn:
        return load_user(conn, user_id=user_id)


def update_me(*, actor: Actor, data: UserPatch) -> dict[str, Any]:
    """Change the fields the caller sent; null clears an optional one."""
    user_id = actor.user_id
    sent = data.model_fields_set
    values: dict[str, Any] = {}
    for name in ("first_name", "last_name", "timezone", "locale"):
        if name in sent:
            values[name] = getattr(data, name)
    if "phone" in sent:
        phone = data.phone
        values["phone_enc"] = crypto.encrypt(phone, context=PHONE_CONTEXT) if phone else None
        values["phone_hash"] = crypto.lookup_hash(_digits(phone)) if phone else None
    if "date_of_birth" in sent:
        birth = data.date_of_birth
        values["date_of_birth_enc"] = crypto.encrypt(birth.isoformat(), context=BIRTH_DATE_CONTEXT) if birth else None
    with db.transaction() as conn:
        if repo.get_user(conn, user_id=user_id, for_update=True) is None:
            raise NotFound("User not found")
        row = repo.update_user(conn, user_id=user_id, values=values) if values else repo.get_user(conn, user_id=user_id)
        if values:
            # Which fields changed, never their values (the audit trail outlives erasure).
            record_audit(
                conn,
                actor=actor,
                action="user.updated",
                resource_type="user",
                resource_id=user_id,
                data={"fields": sorted(sent)},
            )
            invalidate_users([user_id])  # the timezone moves "today" on dashboards and budgets
        return _profile(row)


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit() or ch == "+")
