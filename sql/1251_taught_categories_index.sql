-- What a person taught the categorizer (engine.categorization_query, `taught`): their rows
-- categorized by hand within the learning window. Through idx_transactions_user_id every
-- import and bank-sync page read the person's whole history in that window to find the
-- few hand-categorized rows (170 ms a 500-row page at 50,000 rows); this index holds only
-- those rows, so imported and synced rows (categorized automatically, or not at all) never
-- enter it and pay nothing for it beyond the predicate.
CREATE INDEX IF NOT EXISTS idx_transactions_taught
    ON transactions (user_id, transaction_date)
    WHERE categorization_source IN ('manual', 'user_correction') AND category_id IS NOT NULL;
