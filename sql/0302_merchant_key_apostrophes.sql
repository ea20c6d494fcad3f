-- "Joe's Diner" and "JOES DINER" are one merchant: apostrophes join words instead of
-- splitting them (0301 turned "joe's" into "joe" + "s").
CREATE OR REPLACE FUNCTION categorization_merchant_key(label TEXT)
RETURNS TEXT AS $$
    SELECT NULLIF(string_agg(tok, ' ' ORDER BY ord), '')
      FROM (SELECT tok, ord
              FROM unnest(regexp_split_to_array(
                       btrim(regexp_replace(regexp_replace(lower(coalesce(label, '')), '[''’`]', '', 'g'),
                                            '[^[:alpha:]]+', ' ', 'g')), ' '))
                   WITH ORDINALITY AS u(tok, ord)
             WHERE length(tok) >= 2
               AND tok <> ALL (ARRAY['pos', 'card', 'purchase', 'debit', 'credit', 'visa', 'mastercard', 'ach',
                                     'sq', 'tst', 'pp', 'the', 'www', 'com', 'recurring', 'payment', 'online',
                                     'checkcard', 'dbt', 'crd', 'ec', 'sepa', 'pmt', 'kartenzahlung',
                                     'lastschrift', 'paypal', 'inc', 'ltd', 'llc', 'gmbh'])
             ORDER BY ord
             LIMIT 2) words;
$$ LANGUAGE sql IMMUTABLE PARALLEL SAFE;
