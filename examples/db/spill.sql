-- A sort of every order that does not fit in work_mem: surge flags the
-- spill to disk. (Raise work_mem in the session and run it again.)
SELECT o.id, c.region
FROM shop.orders o
JOIN shop.customers c ON c.id = o.customer_id
ORDER BY o.amount, o.created
LIMIT 50000;
