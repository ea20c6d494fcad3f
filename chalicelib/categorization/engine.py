"""Automatic categorization, in this order of trust:

Only categories the rows' readers can all see are offered: for a family account the
defaults and that family's own; for a personal one the user's visible categories.

1. the user's own rules (and their family's, for family accounts), highest priority first;
2. what the user taught it: the category they gave the same merchant before, where a
   correction of an automatic category (`user_correction`) weighs three times a plain
   choice (`manual`);
3. the category a bank file itself carries, when it names one the user can see;
4. built-in keyword rules onto the default categories.

Everything runs as one SQL statement over a relation of rows, so an import categorizes
100,000 rows set-based and a single API transaction goes through the very same query.
The result is `categorization_source = 'ml'` with a confidence in [0, 1].
"""

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

import psycopg
from psycopg import sql

from chalicelib.categorization.keywords import KEYWORD_CONFIDENCE, KEYWORDS, keyword_slot, merchant_key
from chalicelib.families.access import load_access

RULE_CONFIDENCE = Decimal("0.95")
HINT_CONFIDENCE = Decimal("0.85")
# How far back taught categories count: a merchant's category from years ago says little.
LEARNING_DAYS = 730


@dataclass(frozen=True)
class Suggestion:
    category_id: UUID
    confidence: Decimal
    reason: str  # rule, learned, file, keyword
    source: str = "ml"


_MATCH = """CASE r.match_type
            WHEN 'contains' THEN strpos(lower({col}), r.pattern_lower) > 0
            WHEN 'equals' THEN lower({col}) = r.pattern_lower
            WHEN 'starts_with' THEN left(lower({col}), length(r.pattern_lower)) = r.pattern_lower
            WHEN 'regex' THEN {col} ~* r.pattern END"""

_QUERY = """
WITH src AS ({source}),
visible_categories AS (
    SELECT c.id, c.name, c.is_default FROM categories c
     WHERE c.is_active AND (c.is_default OR {visible})
),
rules AS (
    SELECT r.category_id, r.field, r.match_type, r.pattern, lower(r.pattern) AS pattern_lower,
           r.priority, r.created_at, r.family_id IS NULL AS personal
      FROM categorization_rules r JOIN visible_categories vc ON vc.id = r.category_id
     WHERE r.is_active AND {rule_owners}
),
by_rule AS (
    SELECT DISTINCT ON (s.line) s.line, r.category_id
      FROM src s JOIN rules r
        ON (r.field IN ('description', 'any') AND ({match_description}))
        OR (r.field IN ('merchant', 'any') AND s.merchant IS NOT NULL AND ({match_merchant}))
     ORDER BY s.line, r.priority DESC, r.personal DESC, r.created_at
),
taught AS (
    SELECT categorization_merchant_key(coalesce(t.merchant, t.description)) AS key, t.category_id,
           sum(CASE t.categorization_source WHEN 'user_correction' THEN 3 ELSE 1 END) AS weight
      FROM transactions t JOIN visible_categories vc ON vc.id = t.category_id
     WHERE {taught_by} AND t.category_id IS NOT NULL
       AND t.categorization_source IN ('manual', 'user_correction')
       AND t.transaction_date >= CURRENT_DATE - %(learning_days)s::int
       AND categorization_merchant_key(coalesce(t.merchant, t.description))
           IN (SELECT merchant_key FROM src WHERE merchant_key IS NOT NULL)
     GROUP BY 1, 2
),
learned AS (
    SELECT DISTINCT ON (key) key, category_id,
           least(0.90, 0.50 + 0.40 * weight / sum(weight) OVER (PARTITION BY key)) AS confidence
      FROM taught ORDER BY key, weight DESC, category_id
),
by_learning AS (
    SELECT s.line, l.category_id, round(l.confidence, 2) AS confidence
      FROM src s JOIN learned l ON l.key = s.merchant_key
),
by_hint AS (
    SELECT DISTINCT ON (s.line) s.line, vc.id AS category_id
      FROM src s JOIN visible_categories vc ON lower(vc.name) = lower(s.category_hint)
     WHERE s.category_hint IS NOT NULL
     ORDER BY s.line, vc.is_default, vc.id
),
keywords AS (
    SELECT slot, category_id FROM unnest(%(slots)s::int[], %(slot_categories)s::uuid[]) AS k(slot, category_id)
),
by_keyword AS (
    SELECT s.line, k.category_id FROM src s JOIN keywords k ON k.slot = s.keyword_slot
)
SELECT s.line,
       COALESCE(r.category_id, l.category_id, h.category_id, k.category_id) AS category_id,
       CASE WHEN r.category_id IS NOT NULL THEN %(rule_confidence)s::numeric
            WHEN l.category_id IS NOT NULL THEN l.confidence
            WHEN h.category_id IS NOT NULL THEN %(hint_confidence)s::numeric
            ELSE %(keyword_confidence)s::numeric END AS confidence,
       CASE WHEN r.category_id IS NOT NULL THEN 'rule' WHEN l.category_id IS NOT NULL THEN 'learned'
            WHEN h.category_id IS NOT NULL THEN 'file' ELSE 'keyword' END AS reason
  FROM src s
  LEFT JOIN by_rule r ON r.line = s.line
  LEFT JOIN by_learning l ON l.line = s.line
  LEFT JOIN by_hint h ON h.line = s.line
  LEFT JOIN by_keyword k ON k.line = s.line
 WHERE COALESCE(r.category_id, l.category_id, h.category_id, k.category_id) IS NOT NULL
"""


def _keyword_categories(conn: psycopg.Connection) -> tuple[list[int], list[UUID]]:
    rows = conn.execute(
        """SELECT c.id, c.name, p.name AS parent FROM categories c LEFT JOIN categories p ON p.id = c.parent_id
            WHERE c.is_default AND c.is_active"""
    ).fetchall()
    by_path = {(r["parent"], r["name"]) if r["parent"] else (r["name"], None): r["id"] for r in rows}
    slots, categories = [], []
    for slot, (_, path) in enumerate(KEYWORDS):
        category_id = by_path.get(path)
        if category_id is not None:
            slots.append(slot)
            categories.append(category_id)
    return slots, categories


def categorization_query(
    conn: psycopg.Connection, *, source: sql.Composable, user_id: UUID, family_id: UUID | None
) -> tuple[sql.Composed, dict]:
    """The query over `source` (columns line, description, merchant, category_hint,
    keyword_slot, merchant_key) returning (line, category_id, confidence, reason) for rows it can place."""
    slots, slot_categories = _keyword_categories(conn)
    access = load_access(conn, user_id)
    # The user's own rules, and for a family account that family's rules too.
    rule_owners = access.personal("r")
    if family_id is not None:
        # A family's rows are read by every member: only defaults and that family's own
        # categories may land on them, never one member's personal (or another family's).
        visible = access.in_family(family_id, "c")
        rule_owners = sql.SQL("({} OR {})").format(rule_owners, access.in_family(family_id, "r"))
    else:
        visible = access.visible("c")
    query = sql.SQL(_QUERY).format(
        source=source,
        visible=visible,
        rule_owners=rule_owners,
        taught_by=access.authored("t"),
        match_description=sql.SQL(_MATCH).format(col=sql.SQL("s.description")),
        match_merchant=sql.SQL(_MATCH).format(col=sql.SQL("s.merchant")),
    )
    params = {
        "user_id": user_id,
        "family_id": family_id,
        "learning_days": LEARNING_DAYS,
        "slots": slots,
        "slot_categories": slot_categories,
        "rule_confidence": RULE_CONFIDENCE,
        "hint_confidence": HINT_CONFIDENCE,
        "keyword_confidence": Decimal(str(KEYWORD_CONFIDENCE)),
    }
    return query, params


def suggest_category(
    conn: psycopg.Connection, *, user_id: UUID, family_id: UUID | None, description: str, merchant: str | None
) -> Suggestion | None:
    """The category to give one new transaction without one (None: leave it uncategorized)."""
    source = sql.SQL(
        "SELECT 1 AS line, %(s_description)s::text AS description, %(s_merchant)s::text AS merchant, "
        "NULL::text AS category_hint, %(s_slot)s::int AS keyword_slot, %(s_key)s::text AS merchant_key"
    )
    query, params = categorization_query(conn, source=source, user_id=user_id, family_id=family_id)
    params |= {
        "s_description": description,
        "s_merchant": merchant,
        "s_slot": keyword_slot(description, merchant),
        "s_key": merchant_key(merchant or description),
    }
    row = conn.execute(query, params).fetchone()
    if row is None:
        return None
    return Suggestion(category_id=row["category_id"], confidence=Decimal(row["confidence"]), reason=row["reason"])
