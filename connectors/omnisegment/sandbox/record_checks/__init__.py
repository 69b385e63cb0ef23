"""The sandbox's record checks, one module per family of endpoints, from the reference pages' field
tables.

Deliberately not derived from schemas/*.json: a difference between the two is a test failure.
Each check takes (record, where, envelope) and returns a `Problem` (ERR_TYPE_KEY, message) or None.
"""
