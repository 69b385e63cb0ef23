"""regex_replace on RE2 against Python's backtracking engine: the price of linear time.

    python bench/regex_engine.py            # common patterns, 200,000 values each
    python bench/regex_engine.py -n 50000

Prints values/s for the transform as built from a spec (RE2) and for a plain `re.sub` doing the
same work, their ratio, and how RE2's time grows with the input on `^(a+)+$` (the pattern that
makes Python's engine run for minutes on 39 characters): linear, so 10x the text is ~10x the time.
"""

from __future__ import annotations

import argparse
import re
import time

from engine.transforms.base import TransformContext
from engine.transforms.builtin import TRANSFORMS

CASES = [
    ("digits only", {"pattern": "[^0-9]", "replacement": ""}, "TW-0912-345-678 ext.9"),
    ("collapse spaces", {"pattern": r"\s+", "replacement": " "}, "王  小明   Alice\tChen  "),
    (
        "reorder groups",
        {"pattern": r"(\d{4})/(\d{2})/(\d{2})", "replacement": r"\1-\2-\3"},
        "on 2024/05/01",
    ),
    ("no match", {"pattern": "zzz", "replacement": "y"}, "member M000123 in Taipei"),
]


def _rate(function, value: str, count: int) -> float:  # type: ignore[no-untyped-def]
    started = time.process_time()
    for _ in range(count):
        function(value)
    return count / max(time.process_time() - started, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=200_000)
    count = parser.parse_args().n
    build = TRANSFORMS["regex_replace"].build
    print(f"{'case':<18}{'RE2 values/s':>14}{'re values/s':>14}{'RE2/re':>9}")
    for name, args, value in CASES:
        linear = build(args, TransformContext())
        compiled = re.compile(str(args["pattern"]))
        replacement = str(args["replacement"])
        ours = _rate(linear, value, count)
        theirs = _rate(lambda v, c=compiled, r=replacement: c.sub(r, v), value, count)
        print(f"{name:<18}{ours:>14,.0f}{theirs:>14,.0f}{ours / theirs:>9.2f}")
    catastrophic = build({"pattern": "^(a+)+$", "replacement": "x"}, TransformContext())
    print("\n^(a+)+$ on RE2 (Python's engine needs minutes at 39 characters):")
    previous = None
    for size in (39, 1_000, 10_000, 100_000, 1_000_000):
        value = "a" * (size - 1) + "!"
        started = time.process_time()
        catastrophic(value)
        seconds = time.process_time() - started
        growth = f"  x{seconds / previous:.1f} for x10 text" if previous else ""
        print(f"  {size:>9,} characters: {seconds * 1000:8.3f} ms{growth}")
        previous = seconds if size >= 1_000 else None


if __name__ == "__main__":
    main()
