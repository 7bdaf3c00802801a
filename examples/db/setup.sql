-- A small shop whose statistics are out of date, for trying surge db explain.
--   psql "$DATABASE_URL" -f examples/db/setup.sql
-- Drops and recreates the schema "shop"; takes a few seconds. One statement
-- per line-ending semicolon (VACUUM cannot run in a multi-statement batch).
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS shop CASCADE;
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id int PRIMARY KEY, region text NOT NULL, tier int NOT NULL)
  WITH (autovacuum_enabled = false);
CREATE TABLE shop.orders (id int PRIMARY KEY, customer_id int NOT NULL, amount numeric NOT NULL,
  created date NOT NULL) WITH (autovacuum_enabled = false);
INSERT INTO shop.customers SELECT g, 'r' || (g % 20), g % 5 FROM generate_series(1, 20000) g;
INSERT INTO shop.orders SELECT g, 1 + (g::bigint * 7919) % 20000, (g % 997) / 10.0, date '2024-01-01' + (g % 365)
  FROM generate_series(1, 200000) g;
CREATE INDEX orders_customer ON shop.orders (customer_id);
CREATE INDEX customers_tier ON shop.customers (tier, id);
VACUUM ANALYZE shop.customers;
VACUUM ANALYZE shop.orders;
-- 20,000 customers of a tier the statistics have never seen, with an order each.
INSERT INTO shop.customers SELECT g, 'new', 9 FROM generate_series(20001, 40000) g;
INSERT INTO shop.orders SELECT 200000 + g, 20000 + g, 10, date '2024-12-31' FROM generate_series(1, 20000) g;
