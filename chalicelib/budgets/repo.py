"""SQL of budgets and their categories."""

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from chalicelib.families.access import Access

_COLUMNS = sql.SQL(
    """b.id, b.user_id, b.family_id, b.name, b.description, b.period_type, b.start_date, b.end_date,
       b.total_amount, b.currency, b.is_active, b.created_at, b.updated_at,
       COALESCE((SELECT json_agg(json_build_object('category_id', bc.category_id,
                                                   'allocated_amount', bc.allocated_amount::text,
                                                   'alert_threshold', bc.alert_threshold::text)
                                 ORDER BY bc.created_at, bc.category_id)
                   FROM budget_categories bc WHERE bc.budget_id = b.id AND bc.is_active), '[]') AS categories"""
)


def get(conn: psycopg.Connection, budget_id: UUID, *, for_update: bool = False) -> dict[str, Any] | None:
    lock = sql.SQL(" FOR UPDATE OF b") if for_update else sql.SQL("")
    query = sql.SQL("SELECT {cols} FROM budgets b WHERE b.id = %s{lock}").format(cols=_COLUMNS, lock=lock)
    return conn.execute(query, (budget_id,)).fetchone()


def list_visible(
    conn: psycopg.Connection,
    access: Access,
    *,
    family_id: UUID | None,
    include_inactive: bool,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    conditions = [access.visible("b")]
    if family_id is not None:
        conditions.append(sql.SQL("b.family_id = {}").format(sql.Literal(family_id)))
    if not include_inactive:
        conditions.append(sql.SQL("b.is_active"))
    if after is not None:
        conditions.append(
            sql.SQL("(b.created_at, b.id) < ({}, {})").format(sql.Literal(after[0]), sql.Literal(after[1]))
        )
    query = sql.SQL(
        "SELECT {cols} FROM budgets b WHERE {where} ORDER BY b.created_at DESC, b.id DESC LIMIT {n}"
    ).format(cols=_COLUMNS, where=sql.SQL(" AND ").join(conditions), n=sql.Literal(limit + 1))
    return conn.execute(query).fetchall()


def insert(conn: psycopg.Connection, *, user_id: UUID, family_id: UUID | None, fields: dict[str, Any]) -> UUID:
    return conn.execute(
        """INSERT INTO budgets (user_id, family_id, name, description, period_type, start_date, end_date,
                                total_amount, currency)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (
            user_id,
            family_id,
            fields["name"],
            fields.get("description"),
            fields["period_type"],
            fields["start_date"],
            fields.get("end_date"),
            fields["total_amount"],
            fields.get("currency") or "USD",
        ),
    ).fetchone()["id"]


_UPDATABLE = ("name", "description", "period_type", "start_date", "end_date", "total_amount", "currency", "is_active")


def update(conn: psycopg.Connection, budget_id: UUID, changes: dict[str, Any]) -> None:
    columns = [c for c in _UPDATABLE if c in changes]
    if not columns:
        return
    assignments = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in columns)
    conn.execute(
        sql.SQL("UPDATE budgets SET {} WHERE id = %(id)s").format(assignments),
        {**{c: changes[c] for c in columns}, "id": budget_id},
    )


def replace_categories(conn: psycopg.Connection, budget_id: UUID, lines: list[dict[str, Any]]) -> None:
    conn.execute("DELETE FROM budget_categories WHERE budget_id = %s", (budget_id,))
    if lines:
        conn.execute(
            """INSERT INTO budget_categories (budget_id, category_id, allocated_amount, alert_threshold)
               SELECT %s, * FROM unnest(%s::uuid[], %s::numeric[], %s::numeric[])""",
            (
                budget_id,
                [line["category_id"] for line in lines],
                [line["allocated_amount"] for line in lines],
                [line["alert_threshold"] for line in lines],
            ),
        )


def delete(conn: psycopg.Connection, budget_id: UUID) -> None:
    conn.execute("DELETE FROM budgets WHERE id = %s", (budget_id,))


def usable_categories(
    conn: psycopg.Connection, access: Access, category_ids: list[UUID], *, family_id: UUID | None
) -> set[UUID]:
    """The ids among `category_ids` a budget may use: active categories the caller can see
    (defaults, their own, their families'); a family budget only defaults and that family's,
    so that every member can read what the budget names."""
    if not category_ids:
        return set()
    if family_id is None:
        owner = sql.SQL("(c.is_default OR {})").format(access.visible("c"))
    else:
        owner = sql.SQL("(c.is_default OR c.family_id = {})").format(sql.Literal(family_id))
    query = sql.SQL("SELECT c.id FROM categories c WHERE c.id = ANY({ids}) AND c.is_active AND {owner}").format(
        ids=sql.Literal(category_ids), owner=owner
    )
    return {r["id"] for r in conn.execute(query).fetchall()}
