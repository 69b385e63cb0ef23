"""Records/s of the per-record check (jsonschema is_valid + rules) for each endpoint's example.

Run: python bench/record_check.py   (prints figures; no assertion)
"""

from __future__ import annotations

import time

from connectors.omnisegment._spec_checks import route_for
from connectors.omnisegment.endpoint import OmniSegmentEndpoint
from connectors.omnisegment.endpoints import CATALOGUE
from tests.integration.endpoint_cases import CASES


def rate(check, record, seconds: float = 0.5) -> float:  # type: ignore[no-untyped-def]
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(200):
            check(record)
        count += 200
    return count / elapsed


def main() -> None:
    seen = set()
    for case in CASES:
        if case.endpoint in seen:
            continue
        seen.add(case.endpoint)
        definition = CATALOGUE[case.endpoint]
        block = {"endpoint": case.endpoint, "options": case.options, "mode": case.mode}
        _mode, route = route_for(definition, block)
        endpoint = OmniSegmentEndpoint(definition, route, "http://x", "t", "k", case.options)
        record = case.records[0]
        broken = {k: v for k, v in record.items() if k != case.required[0]}
        print(
            f"{case.endpoint:<20} {len(record):>3} fields  valid {rate(endpoint.check, record):>9,.0f}/s"
            f"  invalid {rate(endpoint.check, broken):>8,.0f}/s"
        )


if __name__ == "__main__":
    main()
