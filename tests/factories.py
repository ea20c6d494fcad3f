"""SQL-level factories for arranging tests (they bypass services on purpose: a test
of one domain should not depend on another domain's routes)."""

from datetime import date
from decimal import Decimal
from uuid import UUID


def make_family(conn, owner_id: UUID, *, name: str = "Family", members: dict[UUID, str] | None = None) -> UUID:
    family_id = conn.execute(
        "INSERT INTO family_groups (name, owner_id) VALUES (%s, %s) RETURNING id", (name, owner_id)
    ).fetchone()["id"]
    conn.execute(
        "INSERT INTO family_members (family_id, user_id, role) VALUES (%s, %s, 'owner')", (family_id, owner_id)
    )
    for user_id, role in (members or {}).items():
        conn.execute(
            "INSERT INTO family_members (family_id, user_id, role) VALUES (%s, %s, %s)", (family_id, user_id, role)
        )
    return family_id


def make_account(
    conn,
    user_id: UUID,
    *,
    name: str = "Checking",
    type: str = "checking",
    family_id: UUID | None = None,
    opening_balance: Decimal | str = "0.00",
    currency: str = "USD",
) -> UUID:
    return conn.execute(
        """INSERT INTO accounts (user_id, family_id, name, type, opening_balance, currency)
           VALUES (%s, %s, %s, %s, %s, %s) RETURNING id""",
        (user_id, family_id, name, type, Decimal(opening_balance), currency),
    ).fetchone()["id"]


def make_transaction(
    conn,
    user_id: UUID,
    account_id: UUID,
    amount: Decimal | str,
    *,
    day: date | None = None,
    description: str = "Purchase",
    merchant: str | None = None,
    category_id: UUID | None = None,
    status: str = "posted",
    family_id: UUID | None = None,
    tags: list[str] | None = None,
    notes: str | None = None,
) -> UUID:
    if family_id is None:
        family_id = conn.execute("SELECT family_id FROM accounts WHERE id = %s", (account_id,)).fetchone()["family_id"]
    return conn.execute(
        """INSERT INTO transactions (user_id, family_id, account_id, category_id, amount, description, merchant,
                                     transaction_date, status, tags, notes)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (
            user_id,
            family_id,
            account_id,
            category_id,
            Decimal(amount),
            description,
            merchant,
            day or date.today(),
            status,
            tags,
            notes,
        ),
    ).fetchone()["id"]


def default_category(conn, name: str, parent: str | None = None) -> UUID:
    if parent is None:
        row = conn.execute(
            "SELECT id FROM categories WHERE is_default AND parent_id IS NULL AND name = %s", (name,)
        ).fetchone()
    else:
        row = conn.execute(
            """SELECT c.id FROM categories c JOIN categories p ON p.id = c.parent_id
                WHERE c.is_default AND c.name = %s AND p.name = %s""",
            (name, parent),
        ).fetchone()
    return row["id"]
