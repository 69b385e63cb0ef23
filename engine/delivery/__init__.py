"""Getting batches to the API: per-key order, rate limiting, retries, bisection of rejected batches."""
