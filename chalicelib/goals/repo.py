"""SQL of savings goals."""

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from chalicelib.families.access import Access

_COLUMNS = sql.SQL(
    """g.id, g.user_id, g.family_id, g.name, g.description, g.goal_type, g.target_amount, g.current_amount,
       g.currency, g.target_date, g.start_date, g.icon, g.color, g.is_active, g.created_at, g.updated_at"""
)


def get(conn: psycopg.Connection, goal_id: UUID, *, for_update: bool = False) -> dict[str, Any] | None:
    # FOR UPDATE serialises contributions to one goal: each sees the amount the previous
    # one left, so every milestone is crossed by exactly one of them.
    lock = sql.SQL(" FOR UPDATE") if for_update else sql.SQL("")
    return conn.execute(
        sql.SQL("SELECT {cols} FROM goals g WHERE g.id = %s{lock}").format(cols=_COLUMNS, lock=lock), (goal_id,)
    ).fetchone()


def list_visible(
    conn: psycopg.Connection,
    access: Access,
    *,
    family_id: UUID | None,
    include_inactive: bool,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    conditions = [access.visible("g")]
    if family_id is not None:
        conditions.append(sql.SQL("g.family_id = {}").format(sql.Literal(family_id)))
    if not include_inactive:
        conditions.append(sql.SQL("g.is_active"))
    if after is not None:
        conditions.append(
            sql.SQL("(g.created_at, g.id) < ({}, {})").format(sql.Literal(after[0]), sql.Literal(after[1]))
        )
    query = sql.SQL("SELECT {cols} FROM goals g WHERE {where} ORDER BY g.created_at DESC, g.id DESC LIMIT {n}").format(
        cols=_COLUMNS, where=sql.SQL(" AND ").join(conditions), n=sql.Literal(limit + 1)
    )
    return conn.execute(query).fetchall()


_FIELDS = (
    "name",
    "description",
    "goal_type",
    "target_amount",
    "current_amount",
    "currency",
    "target_date",
    "icon",
    "color",
    "is_active",
)


def insert(conn: psycopg.Connection, *, user_id: UUID, family_id: UUID | None, fields: dict[str, Any]) -> UUID:
    columns = [c for c in _FIELDS if c in fields]
    query = sql.SQL(
        "INSERT INTO goals (user_id, family_id, {cols}) VALUES (%(user_id)s, %(family_id)s, {vals}) RETURNING id"
    )
    return conn.execute(
        query.format(
            cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
            vals=sql.SQL(", ").join(map(sql.Placeholder, columns)),
        ),
        {**{c: fields[c] for c in columns}, "user_id": user_id, "family_id": family_id},
    ).fetchone()["id"]


def update(conn: psycopg.Connection, goal_id: UUID, changes: dict[str, Any]) -> None:
    columns = [c for c in _FIELDS if c in changes]
    if not columns:
        return
    assignments = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in columns)
    conn.execute(
        sql.SQL("UPDATE goals SET {} WHERE id = %(id)s").format(assignments),
        {**{c: changes[c] for c in columns}, "id": goal_id},
    )


def delete(conn: psycopg.Connection, goal_id: UUID) -> None:
    conn.execute("DELETE FROM goals WHERE id = %s", (goal_id,))


def recipients(conn: psycopg.Connection, *, owner_id: UUID, family_id: UUID | None) -> list[UUID]:
    """Who hears about a goal: its owner, or every member of its family."""
    if family_id is None:
        return [owner_id]
    rows = conn.execute("SELECT user_id FROM family_members WHERE family_id = %s ORDER BY user_id", (family_id,))
    return [r["user_id"] for r in rows.fetchall()]
