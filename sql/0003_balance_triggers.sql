-- Account balances (decision 2): balance = opening_balance + sum of the account's
-- transactions that are not cancelled. The seed's row trigger charged the new account
-- for the old amount on a move and paid one UPDATE per inserted row; these statement
-- triggers net each statement's effect per account from the transition tables and
-- apply it with one UPDATE per touched account, whatever the row count.
--
-- Accounts are locked in id order first so that two statements touching the same
-- accounts cannot deadlock on each other.

CREATE OR REPLACE FUNCTION apply_balance_deltas(deltas JSONB)
RETURNS VOID AS $$
BEGIN
    PERFORM 1 FROM accounts
     WHERE id IN (SELECT (d->>'account_id')::uuid FROM jsonb_array_elements(deltas) d)
     ORDER BY id FOR UPDATE;
    UPDATE accounts a
       SET balance = a.balance + (d->>'delta')::numeric
      FROM jsonb_array_elements(deltas) d
     WHERE a.id = (d->>'account_id')::uuid;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION transactions_balance_on_insert()
RETURNS TRIGGER AS $$
DECLARE
    deltas JSONB;
BEGIN
    SELECT jsonb_agg(jsonb_build_object('account_id', account_id, 'delta', delta) ORDER BY account_id)
      INTO deltas
      FROM (SELECT account_id, sum(amount) AS delta
              FROM new_rows WHERE status <> 'cancelled'
             GROUP BY account_id) s
     WHERE delta <> 0;
    IF deltas IS NOT NULL THEN
        PERFORM apply_balance_deltas(deltas);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION transactions_balance_on_update()
RETURNS TRIGGER AS $$
DECLARE
    deltas JSONB;
BEGIN
    SELECT jsonb_agg(jsonb_build_object('account_id', account_id, 'delta', delta) ORDER BY account_id)
      INTO deltas
      FROM (SELECT account_id, sum(amount) AS delta
              FROM (SELECT account_id, amount FROM new_rows WHERE status <> 'cancelled'
                    UNION ALL
                    SELECT account_id, -amount FROM old_rows WHERE status <> 'cancelled') moved
             GROUP BY account_id) s
     WHERE delta <> 0;
    IF deltas IS NOT NULL THEN
        PERFORM apply_balance_deltas(deltas);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION transactions_balance_on_delete()
RETURNS TRIGGER AS $$
DECLARE
    deltas JSONB;
BEGIN
    SELECT jsonb_agg(jsonb_build_object('account_id', account_id, 'delta', delta) ORDER BY account_id)
      INTO deltas
      FROM (SELECT account_id, -sum(amount) AS delta
              FROM old_rows WHERE status <> 'cancelled'
             GROUP BY account_id) s
     WHERE delta <> 0;
    IF deltas IS NOT NULL THEN
        PERFORM apply_balance_deltas(deltas);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER transactions_balance_insert
    AFTER INSERT ON transactions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION transactions_balance_on_insert();
CREATE TRIGGER transactions_balance_update
    AFTER UPDATE ON transactions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION transactions_balance_on_update();
CREATE TRIGGER transactions_balance_delete
    AFTER DELETE ON transactions REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION transactions_balance_on_delete();

-- The opening balance is part of the balance: changing it moves the balance by the same amount.
CREATE OR REPLACE FUNCTION accounts_opening_balance_change()
RETURNS TRIGGER AS $$
BEGIN
    IF NEW.opening_balance IS DISTINCT FROM OLD.opening_balance THEN
        NEW.balance = NEW.balance + (NEW.opening_balance - OLD.opening_balance);
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION accounts_opening_balance_insert()
RETURNS TRIGGER AS $$
BEGIN
    NEW.balance = NEW.opening_balance;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER accounts_opening_balance_on_update BEFORE UPDATE OF opening_balance ON accounts
    FOR EACH ROW EXECUTE FUNCTION accounts_opening_balance_change();
CREATE TRIGGER accounts_opening_balance_on_insert BEFORE INSERT ON accounts
    FOR EACH ROW EXECUTE FUNCTION accounts_opening_balance_insert();
