"""Getting batches to the API: rate limiting, retries, bisection of rejected batches."""
