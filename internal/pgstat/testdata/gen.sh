#!/usr/bin/env bash
# gen.sh DSN: rebuild the surge_fixture schema and write the EXPLAIN (ANALYZE,
# BUFFERS, FORMAT JSON) plans that the golden tests read. Timings differ on
# every run, so regenerate the golden text with `go test -update` afterwards.
set -euo pipefail
cd "$(dirname "$0")"
dsn=${1:?usage: gen.sh DSN}
psql "$dsn" -Xq -f schema.sql
plan() { # plan NAME SETTINGS SQL [EXPLAIN OPTIONS]
  psql "$dsn" -XAtq -c "SET search_path = surge_fixture; $2" \
    -c "BEGIN" -c "EXPLAIN (${4:-ANALYZE, BUFFERS, FORMAT JSON}) $3" -c "ROLLBACK" > "$1.json"
  echo "wrote $1.json"
}
plan parallel "SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0; SET jit = on; SET jit_above_cost = 0;" \
  "SELECT status, count(*), sum(amount) FROM orders WHERE created > date '2024-03-01' GROUP BY status"
plan nestloop "SET max_parallel_workers_per_gather = 0;" \
  "SELECT count(*), sum(o.amount) FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.tier = 9"
plan cte "SET max_parallel_workers_per_gather = 0; SET work_mem = '4MB';" \
  "WITH big AS MATERIALIZED (SELECT customer_id, sum(amount) AS total FROM orders GROUP BY customer_id) SELECT c.region, b.total FROM big b JOIN customers c ON c.id = b.customer_id WHERE b.total > 800 ORDER BY b.total DESC LIMIT 20"
plan initplan "SET max_parallel_workers_per_gather = 0;" \
  "SELECT id, amount FROM orders WHERE amount > (SELECT avg(amount) * 1.9 FROM orders WHERE status = 'refunded') AND status = 'refunded'"
plan spill "SET max_parallel_workers_per_gather = 0; SET work_mem = '64kB';" \
  "SELECT o.id, c.region FROM orders o JOIN customers c ON c.id = o.customer_id ORDER BY o.amount, o.created LIMIT 100000"
plan trigger "" \
  "UPDATE customers SET tier = tier WHERE id <= 200"
plan noanalyze "" \
  "SELECT c.region, count(*) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.region" "FORMAT JSON"
