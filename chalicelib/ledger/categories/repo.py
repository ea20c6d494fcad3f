"""SQL of categories."""

from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from chalicelib.families.access import Visibility

COLUMNS = sql.SQL(
    "c.id, c.name, c.description, c.icon, c.color, c.parent_id, c.is_default, c.user_id, c.family_id, c.sort_order"
)
WRITABLE = {"name", "parent_id", "description", "icon", "color", "sort_order"}


def get(conn: psycopg.Connection, category_id: UUID, *, for_update: bool = False) -> dict[str, Any] | None:
    suffix = " FOR UPDATE" if for_update else ""
    return conn.execute(
        sql.SQL("SELECT {} FROM categories c WHERE c.id = %s AND c.is_active" + suffix).format(COLUMNS),
        (category_id,),
    ).fetchone()


def list_visible(conn: psycopg.Connection, *, visible: Visibility) -> list[dict[str, Any]]:
    return conn.execute(
        sql.SQL(
            """SELECT {} FROM categories c
                WHERE c.is_active AND (c.is_default OR {})
                ORDER BY c.is_default DESC, c.sort_order, c.name, c.id"""
        ).format(COLUMNS, visible)
    ).fetchall()


def depth_of(conn: psycopg.Connection, category_id: UUID) -> tuple[int, list[UUID]]:
    """How many levels from the root down to this category (a root is 1), and its ancestors."""
    rows = conn.execute(
        """WITH RECURSIVE up(id, parent_id, depth) AS (
               SELECT id, parent_id, 1 FROM categories WHERE id = %s
               UNION ALL
               SELECT c.id, c.parent_id, up.depth + 1 FROM categories c JOIN up ON c.id = up.parent_id
                WHERE up.depth < 50)
           SELECT id FROM up ORDER BY depth""",
        (category_id,),
    ).fetchall()
    return len(rows), [r["id"] for r in rows]


def subtree_height(conn: psycopg.Connection, category_id: UUID) -> int:
    """Levels in the subtree rooted here (a leaf is 1)."""
    return conn.execute(
        """WITH RECURSIVE down(id, depth) AS (
               SELECT id, 1 FROM categories WHERE id = %s
               UNION ALL
               SELECT c.id, down.depth + 1 FROM categories c JOIN down ON c.parent_id = down.id
                WHERE down.depth < 50)
           SELECT max(depth) AS h FROM down""",
        (category_id,),
    ).fetchone()["h"]


def insert(conn: psycopg.Connection, values: dict[str, Any]) -> dict[str, Any]:
    names = list(values)
    query = sql.SQL("INSERT INTO categories AS c ({}) VALUES ({}) RETURNING {}").format(
        sql.SQL(", ").join(map(sql.Identifier, names)),
        sql.SQL(", ").join(sql.Placeholder(n) for n in names),
        COLUMNS,
    )
    return conn.execute(query, values).fetchone()


def update(conn: psycopg.Connection, category_id: UUID, changes: dict[str, Any]) -> dict[str, Any]:
    if set(changes) - WRITABLE:
        raise ValueError(f"not writable: {set(changes) - WRITABLE}")
    query = sql.SQL("UPDATE categories AS c SET {} WHERE c.id = %(category_id)s RETURNING {}").format(
        sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in changes),
        COLUMNS,
    )
    return conn.execute(query, {**changes, "category_id": category_id}).fetchone()


def reassign_and_delete(conn: psycopg.Connection, category_id: UUID, parent_id: UUID | None) -> dict[str, list[UUID]]:
    """Children move up to the parent, transactions move to the parent (or to none), then the
    category goes. Done explicitly: the foreign keys would cascade children away and null
    transactions without an outbox row."""
    children = conn.execute(
        "UPDATE categories SET parent_id = %s WHERE parent_id = %s RETURNING id", (parent_id, category_id)
    ).fetchall()
    moved = conn.execute(
        "UPDATE transactions SET category_id = %s WHERE category_id = %s RETURNING id", (parent_id, category_id)
    ).fetchall()
    conn.execute("UPDATE transactions_archive SET category_id = %s WHERE category_id = %s", (parent_id, category_id))
    conn.execute("DELETE FROM categories WHERE id = %s", (category_id,))
    return {"children": [r["id"] for r in children], "transactions": [r["id"] for r in moved]}
