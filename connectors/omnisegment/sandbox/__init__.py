"""A faithful local OmniSegment: same paths, auth, envelope, checks and error bodies as the reference.

Used by the tests, the benchmarks, `environment: sandbox` and `omnisync sandbox`. Its checks are
written from the reference pages independently of the client's JSON Schemas, so a gap between the
two shows up as a 400 in tests. server.py serves it, routes.py lists what each URL takes
(envelopes.py, records/, values.py hold the checks), cli.py is the `omnisync sandbox` command.
Importing this package itself stays cheap (no aiohttp): it only holds the default account.
"""

SANDBOX_TID = "OA-sandbox"
SANDBOX_API_KEY = "sandbox-api-key"
