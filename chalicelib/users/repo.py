"""SQL of the users table as its owner sees it."""

from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

USER_COLUMNS = sql.SQL(
    """id, email, first_name, last_name, phone_enc, date_of_birth_enc, timezone, locale, role, status,
       email_verified, two_factor_enabled, created_at"""
)


def get_user(conn: psycopg.Connection, *, user_id: UUID, for_update: bool = False) -> dict[str, Any] | None:
    query = sql.SQL("SELECT {} FROM users WHERE id = %s AND status <> 'deleted'").format(USER_COLUMNS)
    if for_update:
        query += sql.SQL(" FOR UPDATE")
    return conn.execute(query, (user_id,)).fetchone()


def update_user(conn: psycopg.Connection, *, user_id: UUID, values: dict[str, Any]) -> dict[str, Any]:
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)) for column in values
    )
    return conn.execute(
        sql.SQL("UPDATE users SET {} WHERE id = {} RETURNING {}").format(
            assignments, sql.Placeholder("user_id"), USER_COLUMNS
        ),
        {**values, "user_id": user_id},
    ).fetchone()
