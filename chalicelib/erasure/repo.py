"""SQL of erasure: what goes, what is handed over, what is masked."""

from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

# Tables erase_personal_rows deals with by name; every other table with a foreign key to
# users is found in the catalogue at run time (see other_user_references).
HANDLED = {
    "users",
    "user_sessions",
    "family_groups",
    "family_members",
    "accounts",
    "categories",
    "transactions",
    "transactions_archive",
    "budgets",
    "goals",
    "notifications",
    "audit_logs",
    "data_sync_logs",
    "categorization_rules",
    "idempotency_keys",
    "export_jobs",
    "auth_email_tokens",
    "totp_recovery_codes",
}
# Successor of an erased owner: the most senior member of the highest role.
_ROLE_RANK = "CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'member' THEN 2 ELSE 3 END"


def lock_user(conn: psycopg.Connection, user_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT id, email, first_name, last_name, status FROM users WHERE id = %s FOR UPDATE", (user_id,)
    ).fetchone()


def memberships(conn: psycopg.Connection, user_id: UUID) -> list[dict[str, Any]]:
    """The families the user belongs to or owns, locked against concurrent membership changes."""
    return conn.execute(
        """SELECT f.id, f.owner_id, m.role
             FROM family_groups f LEFT JOIN family_members m ON m.family_id = f.id AND m.user_id = %(u)s
            WHERE m.user_id IS NOT NULL OR f.owner_id = %(u)s
            ORDER BY f.id FOR UPDATE OF f""",
        {"u": user_id},
    ).fetchall()


def family_member_ids(conn: psycopg.Connection, family_id: UUID) -> list[UUID]:
    return [r["user_id"] for r in conn.execute("SELECT user_id FROM family_members WHERE family_id = %s", (family_id,))]


def successor(conn: psycopg.Connection, family_id: UUID, leaving: UUID) -> UUID | None:
    row = conn.execute(
        sql.SQL(
            """SELECT m.user_id FROM family_members m JOIN users u ON u.id = m.user_id
                WHERE m.family_id = %s AND m.user_id <> %s AND u.status <> 'deleted'
                ORDER BY {rank}, m.joined_at, m.user_id LIMIT 1"""
        ).format(rank=sql.SQL(_ROLE_RANK)),
        (family_id, leaving),
    ).fetchone()
    return row["user_id"] if row else None


def hand_over(conn: psycopg.Connection, family_id: UUID, new_owner: UUID) -> None:
    conn.execute("UPDATE family_groups SET owner_id = %s WHERE id = %s", (new_owner, family_id))
    conn.execute(
        "UPDATE family_members SET role = 'owner' WHERE family_id = %s AND user_id = %s", (family_id, new_owner)
    )


def delete_family(conn: psycopg.Connection, family_id: UUID) -> tuple[list[UUID], list[UUID]]:
    """Delete a family and everything shared in it; the ids of its transactions and categories."""
    transactions = [
        r["id"] for r in conn.execute("DELETE FROM transactions WHERE family_id = %s RETURNING id", (family_id,))
    ]
    conn.execute("DELETE FROM transactions_archive WHERE family_id = %s", (family_id,))
    categories = [
        r["id"] for r in conn.execute("DELETE FROM categories WHERE family_id = %s RETURNING id", (family_id,))
    ]
    # Accounts, budgets, goals, rules, memberships and export jobs go by ON DELETE CASCADE.
    conn.execute("DELETE FROM family_groups WHERE id = %s", (family_id,))
    return transactions, categories


def erase_personal_rows(conn: psycopg.Connection, user_id: UUID) -> dict[str, Any]:
    """Delete the user's own (non-family) data, memberships, auth state and request records."""
    counts: dict[str, Any] = {}
    personal_accounts = "(SELECT id FROM accounts WHERE user_id = %(u)s AND family_id IS NULL)"
    params = {"u": user_id}
    # Through the parent: the balance triggers run for accounts that are deleted right after.
    counts["transaction_ids"] = [
        r["id"]
        for r in conn.execute(
            f"""DELETE FROM transactions WHERE (user_id = %(u)s AND family_id IS NULL)
                                     OR account_id IN {personal_accounts} RETURNING id""",
            params,
        )
    ]
    counts["archived_transactions"] = conn.execute(
        f"""DELETE FROM transactions_archive WHERE (user_id = %(u)s AND family_id IS NULL)
                                           OR account_id IN {personal_accounts}""",
        params,
    ).rowcount
    for table in ("accounts", "budgets", "goals", "categorization_rules"):
        counts[table] = conn.execute(
            sql.SQL("DELETE FROM {} WHERE user_id = %(u)s AND family_id IS NULL").format(sql.Identifier(table)), params
        ).rowcount
    counts["category_ids"] = [
        r["id"]
        for r in conn.execute(
            "DELETE FROM categories WHERE user_id = %(u)s AND family_id IS NULL AND NOT is_default RETURNING id", params
        )
    ]
    # Personal whatever family they concern: the person's notifications, import history
    # (file names), export jobs, stored API replies, one-time tokens and recovery codes.
    for table in (
        "notifications",
        "data_sync_logs",
        "export_jobs",
        "idempotency_keys",
        "auth_email_tokens",
        "totp_recovery_codes",
        "family_members",
    ):
        counts[table] = conn.execute(
            sql.SQL("DELETE FROM {} WHERE user_id = %(u)s").format(sql.Identifier(table)), params
        ).rowcount
    return counts


def revoke_and_delete_sessions(conn: psycopg.Connection, user_id: UUID) -> list[UUID]:
    conn.execute(
        """UPDATE user_sessions SET revoked_at = COALESCE(revoked_at, now()), revoked_reason = 'account_erased'
            WHERE user_id = %s""",
        (user_id,),
    )
    return [r["id"] for r in conn.execute("DELETE FROM user_sessions WHERE user_id = %s RETURNING id", (user_id,))]


def clear_family_receipts(conn: psycopg.Connection, user_id: UUID) -> list[UUID]:
    """Shared transactions keep their data, not a link to a receipt object that is erased."""
    prefix = f"attachments/{user_id}/%"
    conn.execute("UPDATE transactions_archive SET receipt_url = NULL WHERE receipt_url LIKE %s", (prefix,))
    return [
        r["id"]
        for r in conn.execute(
            "UPDATE transactions SET receipt_url = NULL WHERE receipt_url LIKE %s RETURNING id", (prefix,)
        )
    ]


def other_user_references(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Foreign keys to users(id) from tables not handled by name (added by later features):
    their delete action says what the schema means the row to do when its user goes."""
    return conn.execute(
        """SELECT rel.relname AS table_name, att.attname AS column_name, con.confdeltype AS on_delete
             FROM pg_constraint con
             JOIN pg_class rel ON rel.oid = con.conrelid
             JOIN pg_namespace n ON n.oid = rel.relnamespace
             JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = con.conkey[1]
            WHERE con.contype = 'f' AND con.confrelid = 'users'::regclass AND n.nspname = 'public'
              AND con.conparentid = 0 AND NOT rel.relispartition AND array_length(con.conkey, 1) = 1
            ORDER BY 1, 2"""
    ).fetchall()


def sweep_reference(conn: psycopg.Connection, *, table: str, column: str, on_delete: str, user_id: UUID) -> int:
    target, col = sql.Identifier(table), sql.Identifier(column)
    if on_delete == "c":  # CASCADE: the row cannot outlive its user
        return conn.execute(sql.SQL("DELETE FROM {} WHERE {} = %s").format(target, col), (user_id,)).rowcount
    if on_delete == "n":  # SET NULL: the row outlives the user, the link does not
        return conn.execute(
            sql.SQL("UPDATE {} SET {} = NULL WHERE {} = %s").format(target, col, col), (user_id,)
        ).rowcount
    return 0  # NO ACTION / RESTRICT / SET DEFAULT: kept (the id alone names no one once the user row is erased)


def tombstone(conn: psycopg.Connection, user_id: UUID) -> None:
    """The users row stays (audit rows and shared family rows point at it) with no personal data."""
    conn.execute(
        """UPDATE users
              SET email = 'erased-' || replace(id::text, '-', '') || '@erased.invalid',
                  password_hash = '!erased', first_name = NULL, last_name = NULL,
                  phone = NULL, phone_enc = NULL, phone_hash = NULL,
                  date_of_birth = NULL, date_of_birth_enc = NULL,
                  totp_secret_enc = NULL, totp_last_step = NULL, two_factor_enabled = FALSE,
                  email_verified = FALSE, phone_verified = FALSE,
                  timezone = 'UTC', locale = 'en-US', last_login_at = NULL, password_changed_at = NULL,
                  status = 'deleted', deleted_at = now()
            WHERE id = %s""",
        (user_id,),
    )


def audit_rows(conn: psycopg.Connection, user_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT id, resource_data FROM audit_logs
            WHERE user_id = %(u)s OR (resource_type = 'user' AND resource_id = %(u)s)""",
        {"u": user_id},
    ).fetchall()


def mask_audit_rows(conn: psycopg.Connection, masked: list[tuple[UUID, Any]]) -> int:
    if not masked:
        return 0
    return conn.execute(
        """UPDATE audit_logs a SET resource_data = m.data, ip_address = NULL, user_agent = NULL
             FROM unnest(%s::uuid[], %s::jsonb[]) AS m(id, data) WHERE a.id = m.id""",
        ([i for i, _ in masked], [Jsonb(d) if d is not None else None for _, d in masked]),
    ).rowcount
