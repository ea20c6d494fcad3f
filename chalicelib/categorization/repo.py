"""SQL of categorization rules."""

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

_COLUMNS = sql.SQL(
    "id, user_id, family_id, category_id, field, match_type, pattern, priority, is_active, created_at, updated_at"
)


def get(conn: psycopg.Connection, rule_id: UUID, *, for_update: bool = False) -> dict | None:
    query = sql.SQL("SELECT {} FROM categorization_rules WHERE id = %s{}").format(
        _COLUMNS, sql.SQL(" FOR UPDATE") if for_update else sql.SQL("")
    )
    return conn.execute(query, (rule_id,)).fetchone()


def list_visible(
    conn: psycopg.Connection,
    *,
    visible: sql.Composable,
    limit: int,
    after: tuple[datetime, UUID] | None,
    family_id: UUID | None,
) -> list[dict]:
    conditions = [visible]
    params: dict[str, Any] = {"limit": limit}
    if after is not None:
        conditions.append(sql.SQL("(created_at, id) > (%(after_at)s, %(after_id)s)"))
        params |= {"after_at": after[0], "after_id": after[1]}
    if family_id is not None:
        conditions.append(sql.SQL("family_id = %(family_id)s"))
        params["family_id"] = family_id
    query = sql.SQL("SELECT {} FROM categorization_rules WHERE {} ORDER BY created_at, id LIMIT %(limit)s").format(
        _COLUMNS, sql.SQL(" AND ").join(conditions)
    )
    return conn.execute(query, params).fetchall()


def insert(conn: psycopg.Connection, *, user_id: UUID, fields: dict[str, Any]) -> dict:
    names = ["user_id", *fields]
    query = sql.SQL("INSERT INTO categorization_rules ({}) VALUES ({}) RETURNING {}").format(
        sql.SQL(", ").join(sql.Identifier(n) for n in names),
        sql.SQL(", ").join(sql.Placeholder(n) for n in names),
        _COLUMNS,
    )
    return conn.execute(query, {"user_id": user_id, **fields}).fetchone()


def update(conn: psycopg.Connection, rule_id: UUID, changes: dict[str, Any]) -> dict:
    query = sql.SQL("UPDATE categorization_rules SET {} WHERE id = %(id)s RETURNING {}").format(
        sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in changes),
        _COLUMNS,
    )
    return conn.execute(query, {**changes, "id": rule_id}).fetchone()


def delete(conn: psycopg.Connection, rule_id: UUID) -> None:
    conn.execute("DELETE FROM categorization_rules WHERE id = %s", (rule_id,))


def category(conn: psycopg.Connection, category_id: UUID) -> dict | None:
    return conn.execute(
        "SELECT id, user_id, family_id, is_default, is_active FROM categories WHERE id = %s", (category_id,)
    ).fetchone()


def regex_is_valid(conn: psycopg.Connection, pattern: str) -> bool:
    """PostgreSQL's own regex dialect is the one rules run in, so it is the judge."""
    try:
        with conn.transaction():
            conn.execute("SELECT '' ~* %s", (pattern,))
    except psycopg.errors.InvalidRegularExpression:
        return False
    return True
