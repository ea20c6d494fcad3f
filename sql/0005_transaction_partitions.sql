-- Monthly partitions of transactions (decision 7). ensure_transaction_partitions is
-- idempotent; the `partitions` schedule calls it daily for the months ahead, and rows
-- that fell into the default partition are moved by that job.

CREATE OR REPLACE FUNCTION transaction_partition_name(month_start DATE)
RETURNS TEXT AS $$
    SELECT 'transactions_y' || to_char(month_start, 'YYYY') || 'm' || to_char(month_start, 'MM');
$$ LANGUAGE sql IMMUTABLE;

CREATE OR REPLACE FUNCTION ensure_transaction_partitions(from_month DATE, to_month DATE)
RETURNS INTEGER AS $$
DECLARE
    m DATE := date_trunc('month', from_month)::date;
    last DATE := date_trunc('month', to_month)::date;
    created INTEGER := 0;
    name TEXT;
BEGIN
    WHILE m <= last LOOP
        name := transaction_partition_name(m);
        IF to_regclass(name) IS NULL THEN
            -- Only valid when the default partition holds no rows of that month;
            -- the partitions job moves such rows first.
            EXECUTE format('CREATE TABLE %I PARTITION OF transactions FOR VALUES FROM (%L) TO (%L)',
                           name, m, (m + INTERVAL '1 month')::date);
            created := created + 1;
        END IF;
        m := (m + INTERVAL '1 month')::date;
    END LOOP;
    RETURN created;
END;
$$ LANGUAGE plpgsql;

SELECT ensure_transaction_partitions((date_trunc('month', CURRENT_DATE) - INTERVAL '24 months')::date,
                                     (date_trunc('month', CURRENT_DATE) + INTERVAL '3 months')::date);
