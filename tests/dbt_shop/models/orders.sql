-- fails: the raw table does not exist in this database
select id, customer_id, amount from raw_shop.orders
