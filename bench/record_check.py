"""Records/s of the per-record check for each endpoint's example: jsonschema's is_valid against the
compiled predicate (engine.fastcheck), and the endpoint's whole check (compiled check + rules; an
invalid record is explained by jsonschema).

Run: PYTHONPATH=. python bench/record_check.py   (prints figures; no assertion)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from connectors.omnisegment.catalogue import CATALOGUE
from connectors.omnisegment.destination import route_for
from connectors.omnisegment.endpoint import OmniSegmentEndpoint, data_validator, fast_check
from tests.integration.endpoint_cases import CASES


def rate(check: Callable[[Any], object], record: Any, seconds: float = 0.5) -> float:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(200):
            check(record)
        count += 200
    return count / elapsed


def main() -> None:
    print(
        f"{'endpoint':<20} {'fields':>6} {'jsonschema':>11} {'compiled':>11} {'ratio':>6}"
        f" {'check valid':>12} {'check invalid':>14}   (records/s)"
    )
    seen = set()
    for case in CASES:
        if case.endpoint in seen:
            continue
        seen.add(case.endpoint)
        definition = CATALOGUE[case.endpoint]
        block = {"endpoint": case.endpoint, "options": case.options, "mode": case.mode}
        route = route_for(definition, block)
        endpoint = OmniSegmentEndpoint(definition, route, "http://x", "t", "k", case.options)
        identity = definition.identity(case.options) if definition.identity else None
        validator = data_validator(definition.schema, identity)
        compiled = fast_check(definition.schema, identity)
        record = case.records[0]
        broken = {k: v for k, v in record.items() if k != case.required[0]}
        slow, fast = rate(validator.is_valid, record), rate(compiled, record)
        label = "" if compiled != validator.is_valid else "  (not compiled)"
        print(
            f"{case.endpoint:<20} {len(record):>6} {slow:>11,.0f} {fast:>11,.0f} {fast / slow:>5.0f}x"
            f" {rate(endpoint.check, record):>12,.0f} {rate(endpoint.check, broken):>14,.0f}{label}"
        )


if __name__ == "__main__":
    main()
