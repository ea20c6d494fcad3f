-- Issue 16, item 5: a family transaction may carry only a default category or one of that
-- family's own. The categorizer used to offer a member's personal categories (and other
-- families') for family transactions, so the family's other members saw a category that
-- was not theirs. Rows it placed that way go back to uncategorized; the service and the
-- engine keep it from happening again.
UPDATE transactions t
   SET category_id = NULL, categorization_source = 'manual', categorization_confidence = NULL, updated_at = now()
  FROM categories c
 WHERE c.id = t.category_id
   AND t.family_id IS NOT NULL
   AND NOT c.is_default
   AND c.family_id IS DISTINCT FROM t.family_id;
