"""Records/s of the per-record check for each endpoint's example: jsonschema's is_valid against the
compiled predicate (engine.fastcheck), and the endpoint's whole check (compiled check + rules; an
invalid record is explained by jsonschema).

Run: PYTHONPATH=. python bench/record_check.py [--seconds S]   (prints figures; no assertion)

The records are bench/_endpoint_examples.py's: one per endpoint, from the reference pages.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from connectors.omnisegment.catalogue import CATALOGUE
from connectors.omnisegment.destination import route_for
from connectors.omnisegment.endpoint import OmniSegmentEndpoint, data_validator, fast_check

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _endpoint_examples import EXAMPLES


def rate(check: Callable[[Any], object], record: Any, seconds: float = 0.5) -> float:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(200):
            check(record)
        count += 200
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="time spent on each figure")
    seconds = parser.parse_args().seconds
    print(
        f"{'endpoint':<20} {'fields':>6} {'jsonschema':>11} {'compiled':>11} {'ratio':>6}"
        f" {'check valid':>12} {'check invalid':>14}   (records/s)"
    )
    for example in EXAMPLES:
        definition = CATALOGUE[example.endpoint]
        block = {"endpoint": example.endpoint, "options": example.options, "mode": None}
        route = route_for(definition, block)
        endpoint = OmniSegmentEndpoint(definition, route, "http://x", "t", "k", example.options)
        identity = definition.identity(example.options) if definition.identity else None
        validator = data_validator(definition.schema, identity)
        compiled = fast_check(definition.schema, identity)
        record = example.record
        broken = {k: v for k, v in record.items() if k != example.required}
        slow, fast = rate(validator.is_valid, record, seconds), rate(compiled, record, seconds)
        label = "" if compiled != validator.is_valid else "  (not compiled)"
        valid, invalid = (
            rate(endpoint.check, record, seconds),
            rate(endpoint.check, broken, seconds),
        )
        print(
            f"{example.endpoint:<20} {len(record):>6} {slow:>11,.0f} {fast:>11,.0f}"
            f" {fast / slow:>5.0f}x {valid:>12,.0f} {invalid:>14,.0f}{label}"
        )
    missing = sorted(set(CATALOGUE) - {example.endpoint for example in EXAMPLES})
    if missing:  # a new endpoint: give it an example in bench/_endpoint_examples.py
        print(f"no example, not measured: {', '.join(missing)}")


if __name__ == "__main__":
    main()
