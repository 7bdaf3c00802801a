-- A sequential scan whose filter throws away almost every row: surge
-- suggests an index on the filtered column.
SELECT id, amount FROM shop.orders WHERE created = date '2024-06-01' AND amount > 50;
