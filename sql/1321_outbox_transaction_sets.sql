-- One outbox entry for the rows a set-based write adds (an import's INSERT ... SELECT):
-- aggregate_type 'transaction_set', aggregate_id the write's own id (the import record),
-- aggregate_ids every transaction it added. The drain sends them in batches, each
-- document versioned by this entry's id, and notes in ids_sent how many are done, so an
-- import writes one outbox row instead of one per transaction (issue 17).
ALTER TABLE outbox ADD COLUMN aggregate_ids UUID[];
ALTER TABLE outbox ADD COLUMN ids_sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD CONSTRAINT outbox_set_has_ids
    CHECK ((aggregate_type = 'transaction_set') = (aggregate_ids IS NOT NULL));
