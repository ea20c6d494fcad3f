#!/usr/bin/env bash
# Backend CPU of the import's write alone: the 98,997 rows bench/imports.py imported,
# INSERTed again into the account (holding its 100,000 rows) in a rolled-back
# transaction, as they stand and with parts of the write path left out (experiments on
# a private copy; nothing here changes the schema of any other database):
#   bash bench/imports_insert.sh [ROUNDS]
# CPU time of the server process (from /proc: a local server) is what a loaded machine
# stretches least; wall time is printed next to it.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${1:-2}"
db="$("$here/.venv/bin/python" "$here/bench/imports.py" --keep | sed -n 's/^kept database //p')"
P=(psql -h 127.0.0.1 -U postgres -X -q -v ON_ERROR_STOP=1 "$db")
trap 'psql -h 127.0.0.1 -U postgres -X -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null' EXIT
"${P[@]}" <<'SQL'
CREATE TABLE exp_rows AS
SELECT row_number() OVER (ORDER BY random()) AS seq, user_id, family_id, account_id, category_id, amount, currency,
       description, merchant, transaction_date, posted_date, status, categorization_source,
       categorization_confidence, notes, external_id, import_id
  FROM transactions WHERE import_id = (SELECT import_id FROM transactions WHERE import_id IS NOT NULL LIMIT 1);
DELETE FROM transactions WHERE import_id IS NOT NULL OR account_id <> (SELECT account_id FROM exp_rows LIMIT 1);
DELETE FROM outbox;
SQL
"${P[@]}" -c "VACUUM ANALYZE transactions" -c "VACUUM ANALYZE exp_rows"
cols="user_id, family_id, account_id, category_id, amount, currency, description, merchant, transaction_date, posted_date, status, categorization_source, categorization_confidence, notes, external_id, import_id"
set_entry="INSERT INTO outbox (aggregate_type, aggregate_id, operation, aggregate_ids) SELECT 'transaction_set', gen_random_uuid(), 'upsert', array_agg(id) FROM inserted HAVING count(*) > 0"
row_entries="INSERT INTO outbox (aggregate_type, aggregate_id, operation) SELECT 'transaction', id, 'upsert' FROM inserted"
no_search="DROP TRIGGER transactions_search_vector_insert ON transactions; DROP INDEX idx_transactions_search_vector; DROP TRIGGER transactions_search_dictionary_insert ON transactions;"
run() { # label, setup SQL, ORDER BY, outbox statement
    local out c0 c1
    out="$("${P[@]}" 2>&1 <<SQL
BEGIN; SET LOCAL jit = off; SET LOCAL work_mem = '64MB';
$2
SELECT pg_backend_pid() AS pid \gset
\setenv BPID :pid
\! awk '{print "cpu0", \$14 + \$15}' /proc/\$BPID/stat
\timing on
WITH inserted AS (INSERT INTO transactions ($cols) SELECT $cols FROM exp_rows ORDER BY $3 RETURNING id) $4;
\timing off
\! awk '{print "cpu1", \$14 + \$15}' /proc/\$BPID/stat
ROLLBACK;
SQL
)"
    c0="$(awk '/^cpu0/{print $2}' <<<"$out")"
    c1="$(awk '/^cpu1/{print $2}' <<<"$out")"
    printf '%-62s backend CPU %5d ms, wall %s ms (load %s)\n' "$1" "$(( (c1 - c0) * 1000 / $(getconf CLK_TCK) ))" \
        "$(grep -o 'Time: [0-9.]*' <<<"$out" | tail -1 | cut -d' ' -f2)" "$(cut -d' ' -f1 /proc/loadavg)"
    "${P[@]}" -c "VACUUM transactions" -c "VACUUM outbox" >/dev/null
}
for round in $(seq "$rounds"); do
    echo "=== round $round ($(uptime | sed 's/.*load/load/'))"
    run "main: file order, an outbox row per transaction" "" seq "$row_entries"
    run "file order, one set entry" "" seq "$set_entry"
    run "this branch: date order, one set entry" "" "transaction_date, seq" "$set_entry"
    run "date order, set, no search indexing (after issue-17-postings)" "$no_search" "transaction_date, seq" "$set_entry"
    run "  same, no foreign keys (floor only)" "$no_search ALTER TABLE transactions DROP CONSTRAINT transactions_account_id_fkey, DROP CONSTRAINT transactions_user_id_fkey, DROP CONSTRAINT transactions_family_id_fkey, DROP CONSTRAINT transactions_category_id_fkey;" "transaction_date, seq" "$set_entry"
    run "  same, no trigram GIN (floor only)" "$no_search DROP INDEX idx_transactions_text_trgm;" "transaction_date, seq" "$set_entry"
    run "  same, no balance/monthly statement triggers (floor only)" "$no_search ALTER TABLE transactions DISABLE TRIGGER transactions_balance_insert; ALTER TABLE transactions DISABLE TRIGGER transactions_monthly_totals_insert;" "transaction_date, seq" "$set_entry"
done
