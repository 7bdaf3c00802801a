-- Schema and data behind the golden plans in this directory.
-- Regenerate the plans with ./gen.sh DSN (needs psql and PostgreSQL >= 13).
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS surge_fixture CASCADE;
CREATE SCHEMA surge_fixture;
SET search_path = surge_fixture;
CREATE TABLE customers (id int PRIMARY KEY, region text NOT NULL, tier int NOT NULL)
  WITH (autovacuum_enabled = false);
INSERT INTO customers SELECT g, 'r' || (g % 20), g % 5 FROM generate_series(1, 20000) g;
CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, amount numeric NOT NULL,
  status text NOT NULL, created date NOT NULL) WITH (autovacuum_enabled = false);
INSERT INTO orders SELECT g, 1 + (g::bigint * 7919) % 20000, (g % 997) / 10.0,
  CASE WHEN g % 100 = 0 THEN 'refunded' ELSE 'paid' END, date '2024-01-01' + (g % 365)
  FROM generate_series(1, 300000) g;
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX customers_tier ON customers (tier, id);
VACUUM ANALYZE customers;
VACUUM ANALYZE orders;
-- Rows added after ANALYZE and without VACUUM: stale statistics (tier 9 is
-- unknown to the planner) and a visibility map that forces heap fetches on
-- index-only scans.
INSERT INTO customers SELECT g, 'late', 9 FROM generate_series(20001, 60000) g;
INSERT INTO orders SELECT 300000 + g, 20000 + g, 10, 'paid', date '2024-12-31'
  FROM generate_series(1, 40000) g;
-- A trigger, so that a write statement's plan carries trigger time.
CREATE TABLE audit (customer_id int, at timestamptz DEFAULT now());
CREATE FUNCTION audit_customer() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN INSERT INTO audit (customer_id) VALUES (NEW.id); RETURN NEW; END$$;
CREATE TRIGGER customers_audit AFTER UPDATE ON customers
  FOR EACH ROW EXECUTE FUNCTION audit_customer();
