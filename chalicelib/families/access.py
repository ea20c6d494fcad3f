"""Who may see and do what: the one authorization helper every domain uses.

A resource belongs either to one user (family_id NULL) or to a family. Its owner
sees and does everything with a personal resource; a family resource is visible to
the family's members and their role decides what they may do (API.md "Families"):
viewer reads; member also writes transactions and contributes to goals; admin also
manages accounts, budgets, goals, categories and members; owner also deletes the
family. What the caller may not see answers 404 (never leak existence); what the
caller sees but may not do answers 403.

Writes lock the role they rely on. The roles are read once per request without a lock;
a write that then went ahead on that read could commit after the member's removal (or
demotion) had, so the owner saw "removed" and then a write by the removed member. A
check for anything above reading re-reads the caller's membership FOR SHARE in the
caller's transaction: a removal in flight is waited for and then seen, and a removal
that starts later waits until the write has committed.
"""

from dataclasses import dataclass, field
from enum import IntEnum
from uuid import UUID

import psycopg
from psycopg import sql

from chalicelib.errors import Forbidden, NotFound


class Role(IntEnum):
    viewer = 0
    member = 1
    admin = 2
    owner = 3


# What each kind of action needs in a family.
READ = Role.viewer
WRITE_TRANSACTIONS = Role.member
CONTRIBUTE = Role.member
MANAGE = Role.admin
OWN = Role.owner


@dataclass(frozen=True)
class Access:
    user_id: UUID
    family_roles: dict[UUID, Role]
    # The transaction the roles were read in, where writes lock the role they rely on.
    conn: psycopg.Connection | None = field(default=None, compare=False, repr=False)

    @property
    def family_ids(self) -> list[UUID]:
        return list(self.family_roles)

    def role_in(self, family_id: UUID) -> Role | None:
        return self.family_roles.get(family_id)

    def require_family(self, family_id: UUID, need: Role = READ, *, what: str = "Family") -> Role:
        """The caller's role in a family; 404 if not a member, 403 if the role is too low."""
        role = self.family_roles.get(family_id)
        if role is not None and need > READ and self.conn is not None:
            role = _locked_role(self.conn, family_id, self.user_id)
        if role is None:
            raise NotFound(f"{what} not found")
        if role < need:
            raise Forbidden(f"Your role in this family ({role.name}) does not allow this")
        return role

    def authorize(self, *, owner_id: UUID, family_id: UUID | None, need: Role = READ, what: str = "Resource") -> None:
        """Check a loaded resource: 404 when the caller may not see it, 403 when they may
        see it but `need` is above their role."""
        if family_id is None:
            if owner_id != self.user_id:
                raise NotFound(f"{what} not found")
            return
        self.require_family(family_id, need, what=what)

    def can_see(self, *, owner_id: UUID, family_id: UUID | None) -> bool:
        if family_id is None:
            return owner_id == self.user_id
        return family_id in self.family_roles

    def visible(self, alias: str | None = None) -> sql.Composed:
        """SQL condition: rows of `alias` (with user_id and family_id columns) the caller may read."""
        user_col = sql.Identifier(alias, "user_id") if alias else sql.Identifier("user_id")
        family_col = sql.Identifier(alias, "family_id") if alias else sql.Identifier("family_id")
        if not self.family_ids:
            # Same rows; without the always-false OR branch the planner can use an index on user_id.
            return sql.SQL("({fam} IS NULL AND {usr} = {me})").format(
                fam=family_col, usr=user_col, me=sql.Literal(self.user_id)
            )
        return sql.SQL("(({fam} IS NULL AND {usr} = {me}) OR {fam} = ANY({families}))").format(
            fam=family_col,
            usr=user_col,
            me=sql.Literal(self.user_id),
            families=sql.Literal(self.family_ids),
        )

    def category_visible(self, alias: str) -> sql.Composed:
        """SQL condition: categories of `alias` whose name the caller may read (the defaults,
        their own, their families'). Every join that fetches a category's name for a
        caller goes through it: a row the caller sees may carry a category they may not."""
        return sql.SQL("({alias}.is_default OR {visible})").format(
            alias=sql.Identifier(alias), visible=self.visible(alias)
        )

    def visible_parts(self, alias: str | None = None, *, family_id: UUID | None = None) -> list[sql.Composed]:
        """`visible()` split into disjoint conditions (own personal rows, then one per family)
        whose OR is `visible()`: a large list query runs one ordered index scan per part and
        merges them, where a single OR would have to sort every visible row. With `family_id`,
        only that family's part (the caller must be a member: check with require_family)."""
        user_col = sql.Identifier(alias, "user_id") if alias else sql.Identifier("user_id")
        family_col = sql.Identifier(alias, "family_id") if alias else sql.Identifier("family_id")
        families = [family_id] if family_id is not None else self.family_ids
        parts = [
            sql.SQL("{fam} = {family}").format(fam=family_col, family=sql.Literal(f))
            for f in families
            if f in self.family_roles
        ]
        if family_id is None:
            parts.insert(
                0,
                sql.SQL("({fam} IS NULL AND {usr} = {me})").format(
                    fam=family_col, usr=user_col, me=sql.Literal(self.user_id)
                ),
            )
        return parts


def load_access(conn: psycopg.Connection, user_id: UUID) -> Access:
    rows = conn.execute("SELECT family_id, role FROM family_members WHERE user_id = %s", (user_id,)).fetchall()
    return Access(user_id=user_id, family_roles={r["family_id"]: Role[r["role"]] for r in rows}, conn=conn)


def _locked_role(conn: psycopg.Connection, family_id: UUID, user_id: UUID) -> Role | None:
    row = conn.execute(
        "SELECT role FROM family_members WHERE family_id = %s AND user_id = %s FOR SHARE", (family_id, user_id)
    ).fetchone()
    return Role[row["role"]] if row else None


def readers_of(conn: psycopg.Connection, *, owner_id: UUID, family_id: UUID | None) -> set[UUID]:
    """Everyone who may read a resource (the rule above, turned around): its owner when it
    is personal, every member of its family (each role reads) when it is the family's."""
    if family_id is None:
        return {owner_id}
    rows = conn.execute("SELECT user_id FROM family_members WHERE family_id = %s", (family_id,)).fetchall()
    return {r["user_id"] if isinstance(r, dict) else r[0] for r in rows}


def visible_to_each(table: str, alias: str, *, readers: str, columns: sql.Composable) -> sql.Composed:
    """The rule of `Access.visible`, for many readers in one statement: a SELECT of
    (viewer_id, `columns`) for every row of `table` (as `alias`) that each reader of the
    CTE `readers` (column viewer_id; `columns` may name it as `r`) may read: their
    personal rows, then their families'.
    Two index-friendly joins rather than an OR, so a family's rows are found once per
    membership, not by scanning the table for each reader."""
    return sql.SQL(
        """SELECT r.viewer_id, {columns}
      FROM {readers} r JOIN {table} {alias} ON {alias}.family_id IS NULL AND {alias}.user_id = r.viewer_id
     UNION ALL
    SELECT r.viewer_id, {columns}
      FROM {readers} r
      JOIN family_members fm ON fm.user_id = r.viewer_id
      JOIN {table} {alias} ON {alias}.family_id = fm.family_id"""
    ).format(columns=columns, readers=sql.Identifier(readers), table=sql.Identifier(table), alias=sql.Identifier(alias))
