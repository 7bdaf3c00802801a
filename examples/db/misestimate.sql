-- The planner expects one tier-9 customer and picks a nested loop; there
-- are 20,000. surge flags the misestimate and the index-only scan's heap
-- fetches (the new rows were never vacuumed).
SELECT count(*), sum(o.amount)
FROM shop.customers c
JOIN shop.orders o ON o.customer_id = c.id
WHERE c.tier = 9;
