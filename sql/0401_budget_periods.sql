-- Budget periods, defined once for every set-based reader (status, dashboard, the
-- budget-alerts schedule); chalicelib/budgets/periods.py is the same rule in Python
-- and a test holds the two together.
--
-- A monthly/quarterly/yearly budget's k-th period starts at start_date + k*step months
-- (PostgreSQL clamps to the month's length, so a budget anchored on the 31st starts on
-- Feb 28/29 and again on Mar 31: every period is derived from the anchor, never from
-- the previous period) and ends the day before the next one starts, or at end_date.
-- A custom budget has one period, start_date..end_date. No row: `on_date` lies outside.
CREATE OR REPLACE FUNCTION budget_period(p_type TEXT, p_start DATE, p_end DATE, on_date DATE)
RETURNS TABLE (period_start DATE, period_end DATE)
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_type = 'custom' THEN p_start
                ELSE (p_start + make_interval(months => k * step))::date END,
           CASE WHEN p_type = 'custom' THEN p_end
                ELSE LEAST((p_start + make_interval(months => (k + 1) * step))::date - 1,
                           COALESCE(p_end, 'infinity'::date)) END
      FROM (SELECT step,
                   CASE WHEN (p_start + make_interval(months => k0 * step))::date > on_date THEN k0 - 1
                        ELSE k0 END AS k
              FROM (SELECT step,
                           floor(((extract(year FROM on_date) - extract(year FROM p_start)) * 12
                                  + extract(month FROM on_date) - extract(month FROM p_start)) / step)::int AS k0
                      FROM (SELECT CASE p_type WHEN 'quarterly' THEN 3 WHEN 'yearly' THEN 12 ELSE 1 END AS step) s
                   ) a
           ) b
     WHERE on_date >= p_start AND (p_end IS NULL OR on_date <= p_end)
$$;
