"""A bank account of an item becomes one of ours: when the item is linked, and when the
bank later reports an account of the item that we do not hold yet (a card opened after
linking). Either way it continues a relinkable account's history or is created with the
connection's owner, so a family's linked account belongs to the family."""

from typing import Any
from uuid import UUID

import psycopg

from chalicelib.bank_sync import mapping, repo
from chalicelib.bank_sync.provider import ProviderAccount


def link_account(
    conn: psycopg.Connection,
    *,
    user_id: UUID,
    connection: dict[str, Any],
    account: ProviderAccount,
    institution: str | None,
) -> None:
    existing = repo.find_relinkable_account(
        conn, plaid_account_id=account.account_id, user_id=user_id, family_id=connection["family_id"]
    )
    if existing is not None:
        repo.attach_account(conn, account_id=existing["id"], connection_id=connection["id"])
        return
    # Our balance starts as the bank's; a sync's last page moves the opening balance so that
    # it stays the bank's once the synced history is in.
    opening = mapping.our_balance(account.type, account.current) if account.current is not None else 0
    repo.insert_linked_account(
        conn,
        {
            "user_id": user_id,
            "family_id": connection["family_id"],
            "name": (account.official_name or account.name or "Bank account")[:100],
            "type": mapping.account_type(account.type, account.subtype),
            "institution": (institution or "")[:100] or None,
            "account_number_last4": (account.mask or "")[-4:] or None,
            "currency": (account.currency or "USD").upper()[:3],
            "opening_balance": opening,
            # The bank, not our rule, decides whether this balance may go below zero.
            "allow_negative": True,
            "plaid_account_id": account.account_id,
            "bank_connection_id": connection["id"],
        },
    )
