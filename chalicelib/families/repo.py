"""SQL of families and their members."""

from typing import Any
from uuid import UUID

import psycopg

_FAMILY_COLUMNS = "f.id, f.name, f.description, f.owner_id, f.created_at, f.updated_at"


def list_for_user(conn: psycopg.Connection, user_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        f"""SELECT {_FAMILY_COLUMNS}, m.role
              FROM family_groups f JOIN family_members m ON m.family_id = f.id
             WHERE m.user_id = %s
             ORDER BY f.created_at, f.id""",
        (user_id,),
    ).fetchall()


def get(conn: psycopg.Connection, family_id: UUID, *, for_update: bool = False) -> dict[str, Any] | None:
    # NO KEY UPDATE: serializes changes to a family without blocking the foreign-key checks
    # of writes into it (their KEY SHARE), which would deadlock with their role locks.
    lock = " FOR NO KEY UPDATE" if for_update else ""
    return conn.execute(f"SELECT {_FAMILY_COLUMNS} FROM family_groups f WHERE f.id = %s{lock}", (family_id,)).fetchone()


def insert(conn: psycopg.Connection, *, owner_id: UUID, name: str, description: str | None) -> dict[str, Any]:
    family = conn.execute(
        f"""INSERT INTO family_groups AS f (name, description, owner_id) VALUES (%s, %s, %s)
            RETURNING {_FAMILY_COLUMNS}""",
        (name, description, owner_id),
    ).fetchone()
    conn.execute(
        "INSERT INTO family_members (family_id, user_id, role) VALUES (%s, %s, 'owner')", (family["id"], owner_id)
    )
    return family


def update(conn: psycopg.Connection, family_id: UUID, changes: dict[str, Any]) -> dict[str, Any]:
    from psycopg import sql

    assignments = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in changes)
    return conn.execute(
        sql.SQL("UPDATE family_groups AS f SET {} WHERE f.id = %(id)s RETURNING " + _FAMILY_COLUMNS).format(
            assignments
        ),
        {**changes, "id": family_id},
    ).fetchone()


def delete(conn: psycopg.Connection, family_id: UUID) -> None:
    conn.execute("DELETE FROM family_groups WHERE id = %s", (family_id,))


def count_accounts(conn: psycopg.Connection, family_id: UUID) -> int:
    return conn.execute("SELECT count(*) AS n FROM accounts WHERE family_id = %s", (family_id,)).fetchone()["n"]


def uncategorize_family_categories(conn: psycopg.Connection, family_id: UUID) -> list[UUID]:
    """Transactions (outside the family) filed under the family's categories lose the category
    explicitly, before the cascade would do it without an outbox row."""
    rows = conn.execute(
        """UPDATE transactions SET category_id = NULL
            WHERE category_id IN (SELECT id FROM categories WHERE family_id = %s)
        RETURNING id""",
        (family_id,),
    ).fetchall()
    conn.execute(
        """UPDATE transactions_archive SET category_id = NULL
            WHERE category_id IN (SELECT id FROM categories WHERE family_id = %s)""",
        (family_id,),
    )
    return [r["id"] for r in rows]


def category_ids(conn: psycopg.Connection, family_id: UUID) -> list[UUID]:
    return [r["id"] for r in conn.execute("SELECT id FROM categories WHERE family_id = %s", (family_id,))]


def members(conn: psycopg.Connection, family_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT m.user_id, u.email, u.first_name, u.last_name, m.role, m.joined_at
             FROM family_members m JOIN users u ON u.id = m.user_id
            WHERE m.family_id = %s
            ORDER BY m.joined_at, u.email""",
        (family_id,),
    ).fetchall()


def member(conn: psycopg.Connection, family_id: UUID, user_id: UUID, *, for_update: bool = False) -> dict | None:
    lock = " FOR UPDATE OF m" if for_update else ""
    return conn.execute(
        f"""SELECT m.user_id, u.email, u.first_name, u.last_name, m.role, m.joined_at
              FROM family_members m JOIN users u ON u.id = m.user_id
             WHERE m.family_id = %s AND m.user_id = %s{lock}""",
        (family_id, user_id),
    ).fetchone()


def user_by_email(conn: psycopg.Connection, email: str) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT id FROM users WHERE lower(email) = lower(%s) AND status <> 'deleted'", (email,)
    ).fetchone()


def add_member(conn: psycopg.Connection, family_id: UUID, user_id: UUID, role: str) -> bool:
    row = conn.execute(
        """INSERT INTO family_members (family_id, user_id, role) VALUES (%s, %s, %s)
           ON CONFLICT (family_id, user_id) DO NOTHING RETURNING id""",
        (family_id, user_id, role),
    ).fetchone()
    return row is not None


def set_role(conn: psycopg.Connection, family_id: UUID, user_id: UUID, role: str) -> None:
    conn.execute(
        "UPDATE family_members SET role = %s WHERE family_id = %s AND user_id = %s", (role, family_id, user_id)
    )


def set_owner(conn: psycopg.Connection, family_id: UUID, user_id: UUID) -> None:
    conn.execute("UPDATE family_groups SET owner_id = %s WHERE id = %s", (user_id, family_id))


def remove_member(conn: psycopg.Connection, family_id: UUID, user_id: UUID) -> None:
    conn.execute("DELETE FROM family_members WHERE family_id = %s AND user_id = %s", (family_id, user_id))


def lock_members(conn: psycopg.Connection, family_id: UUID) -> None:
    """Wait for the writes that rely on a membership of this family, and hold off new ones."""
    conn.execute("SELECT 1 FROM family_members WHERE family_id = %s FOR UPDATE", (family_id,))


def member_ids(conn: psycopg.Connection, family_id: UUID) -> list[UUID]:
    return [r["user_id"] for r in conn.execute("SELECT user_id FROM family_members WHERE family_id = %s", (family_id,))]
