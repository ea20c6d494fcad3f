"""SQL behind recurring-payment detection: outflows grouped per viewer and normalized
merchant (or description), only groups with enough occurrences to be a series."""

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from chalicelib.insights.recurring import MIN_OCCURRENCES

# Case- and accent-folded letters only: "NETFLIX.COM 8472" and "Netflix.com 1190" group
# together; reference numbers in bank descriptions do not split a series.
_KEY = """btrim(regexp_replace(lower(unaccent(COALESCE(NULLIF(btrim(t.merchant), ''), t.description))),
                               '[^a-z]+', ' ', 'g'))"""

_GROUPS = """
WITH viewers AS (
    SELECT a.user_id AS viewer, a.id AS account_id FROM accounts a
     WHERE a.family_id IS NULL AND {personal}
    UNION ALL
    SELECT fm.user_id, a.id FROM accounts a JOIN family_members fm ON fm.family_id = a.family_id
     WHERE {family}
),
tx AS (
    SELECT v.viewer, t.transaction_date, -t.amount AS amount, t.account_id, t.category_id, t.currency,
           COALESCE(NULLIF(btrim(t.merchant), ''), t.description) AS label, {key} AS key
      FROM viewers v JOIN transactions t ON t.account_id = v.account_id
     WHERE t.amount < 0 AND t.status <> 'cancelled' AND t.transaction_date >= {since}
)
SELECT tx.viewer, u.timezone, tx.key,
       (array_agg(tx.label ORDER BY tx.transaction_date DESC))[1] AS label,
       (array_agg(tx.currency ORDER BY tx.transaction_date DESC))[1] AS currency,
       array_agg(tx.transaction_date ORDER BY tx.transaction_date) AS days,
       array_agg(tx.amount ORDER BY tx.transaction_date) AS amounts,
       array_agg(tx.account_id ORDER BY tx.transaction_date) AS account_ids,
       array_agg(tx.category_id ORDER BY tx.transaction_date) AS category_ids
  FROM tx JOIN users u ON u.id = tx.viewer
 WHERE tx.key <> ''
 GROUP BY tx.viewer, u.timezone, tx.key
HAVING count(*) >= {min_occurrences}"""


def candidate_groups(conn: psycopg.Connection, *, since: date, viewer: UUID | None = None) -> list[dict[str, Any]]:
    """Per (viewer, key): the outflows since `since` the viewer can read, oldest first."""
    if viewer is None:
        personal = family = sql.SQL("TRUE")
    else:
        personal = sql.SQL("a.user_id = {}").format(sql.Literal(viewer))
        family = sql.SQL("fm.user_id = {}").format(sql.Literal(viewer))
    query = sql.SQL(_GROUPS).format(
        personal=personal,
        family=family,
        key=sql.SQL(_KEY),
        since=sql.Literal(since),
        min_occurrences=sql.Literal(MIN_OCCURRENCES),
    )
    return conn.execute(query).fetchall()


def occurrences_of(group: dict[str, Any]) -> list[tuple[date, Decimal, UUID, UUID | None]]:
    return list(zip(group["days"], group["amounts"], group["account_ids"], group["category_ids"], strict=True))
