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


# An SQL condition built here (visible, visible_parts, personal, …): the annotation of a
# repository argument that must come from Access, which tests/families/test_access_everywhere.py
# checks at every call site.
Visibility = sql.Composable

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
        if not self.family_ids:
            # Same rows; without the always-false OR branch the planner can use an index on user_id.
            return self.personal(alias)
        return sql.SQL("({own} OR {fam} = ANY({families}))").format(
            own=self.personal(alias), fam=_column(alias, "family_id"), families=sql.Literal(self.family_ids)
        )

    def visible_postings(self, alias: str) -> sql.Composed:
        """SQL condition: `visible()` over rows keyed by scope = COALESCE(family_id, user_id)
        (search_postings, search_backlog, sql/1301): led by scope = ANY(me, my families) so
        that an index on scope is entered once per scope, then the same rule exactly."""
        scope, fam = _column(alias, "scope"), _column(alias, "family_id")
        me = sql.Literal(self.user_id)
        if not self.family_ids:
            return sql.SQL("({scope} = {me} AND {fam} IS NULL)").format(scope=scope, me=me, fam=fam)
        return sql.SQL(
            "({scope} = ANY({scopes}) AND (({fam} IS NULL AND {scope} = {me}) OR {fam} = ANY({families})))"
        ).format(
            scope=scope,
            fam=fam,
            me=me,
            scopes=sql.Literal([self.user_id, *self.family_ids]),
            families=sql.Literal(self.family_ids),
        )

    def personal(self, alias: str | None = None) -> sql.Composed:
        """SQL condition: the caller's own personal rows (not their families')."""
        return owned_by(self.user_id, None, alias)

    def in_family(self, family_id: UUID, alias: str | None = None) -> sql.Composed:
        """SQL condition: one family's rows. Check membership first (require_family): the
        condition does not, so that a system pass for a family can use it too."""
        return sql.SQL("{fam} = {family}").format(fam=_column(alias, "family_id"), family=sql.Literal(family_id))

    def authored(self, alias: str | None = None) -> sql.Composed:
        """SQL condition: rows the caller created, personal or in any family. Not a
        visibility rule (a former member still authored their family rows): for what the
        caller taught the app, never for what they may read."""
        return sql.SQL("{usr} = {me}").format(usr=_column(alias, "user_id"), me=sql.Literal(self.user_id))

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
        families = [family_id] if family_id is not None else self.family_ids
        parts = [self.in_family(f, alias) for f in families if f in self.family_roles]
        if family_id is None:
            parts.insert(0, self.personal(alias))
        return parts


def _column(alias: str | None, name: str) -> sql.Identifier:
    return sql.Identifier(alias, name) if alias else sql.Identifier(name)


def owned_by(owner_id: UUID, family_id: UUID | None, alias: str | None = None) -> sql.Composed:
    """SQL condition: rows with exactly this owner, (user, no family) or (user, family)."""
    fam, usr = _column(alias, "family_id"), _column(alias, "user_id")
    if family_id is None:
        return sql.SQL("({fam} IS NULL AND {usr} = {me})").format(fam=fam, usr=usr, me=sql.Literal(owner_id))
    return sql.SQL("({fam} = {family} AND {usr} = {me})").format(
        fam=fam, usr=usr, family=sql.Literal(family_id), me=sql.Literal(owner_id)
    )


def same_owner(rows: str, owner: str) -> sql.Composed:
    """SQL condition relating two aliases: `rows` belong where `owner` does (the owner's
    personal rows for a personal `owner`, the family's rows for a family one), the rule
    by which a budget counts the accounts its readers share."""
    return sql.SQL(
        "CASE WHEN {o_fam} IS NULL THEN {r_fam} IS NULL AND {r_usr} = {o_usr} ELSE {r_fam} = {o_fam} END"
    ).format(
        o_fam=_column(owner, "family_id"),
        o_usr=_column(owner, "user_id"),
        r_fam=_column(rows, "family_id"),
        r_usr=_column(rows, "user_id"),
    )


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
