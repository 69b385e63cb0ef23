"""How long each numeric path takes to refuse a cell far longer than any number.

    python bench/huge_cells.py              # a 20 MB cell of digits (what a 64 MiB CSV field allows)
    python bench/huge_cells.py --mb 1

A CSV field may hold 64 MiB, so such a cell reaches the transforms. Unbounded, `cast: int` of
20 MB of digits ran twelve minutes (400,000 digits: 6.3 s), holding the interpreter so that not
even SIGTERM got through. Each path now refuses the text by its length before converting it;
this prints the time of each refusal and the reason a reject file would hold.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from engine.transforms.base import TransformContext, TransformError
from engine.transforms.builtin import TRANSFORMS
from engine.transforms.expressions import compile_expression


def _transform(name: str, args: Any) -> Callable[[Any], Any]:
    return TRANSFORMS[name].build(args, TransformContext())


PATHS: list[tuple[str, Callable[[Any], Any]]] = [
    ("cast: int", _transform("cast", "int")),
    ("cast: float", _transform("cast", "float")),
    ("cast: decimal", _transform("cast", "decimal")),
    ("number", _transform("number", None)),
    ("number: {output: int}", _transform("number", {"output": "int"})),
    ("phone: {region: TW}", _transform("phone", {"region": "TW"})),
    ("date", _transform("date", {"input": ["epoch"]})),
    ("int(x) in an expression", lambda v: compile_expression("int(x)")({"x": v})),
    ("x > 100 in a filter", lambda v: compile_expression("x > 100")({"x": v})),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=20.0, help="size of the cell in MB")
    options = parser.parse_args()
    cell = "7" * int(options.mb * 1_000_000)
    print(f"a cell of {len(cell):,} digits")
    print(f"{'path':<26} {'refused in':>11}  reason")
    accepted = []
    for label, convert in PATHS:
        started = time.perf_counter()
        try:
            convert(cell)
            reason = "ACCEPTED (should not be)"
            accepted.append(label)
        except TransformError as exc:
            reason = str(exc)
        elapsed = time.perf_counter() - started
        print(f"{label:<26} {elapsed:>10.4f}s  {reason[:90]}")
    if accepted:
        sys.exit(f"accepted a {len(cell):,}-character number: {', '.join(accepted)}")


if __name__ == "__main__":
    main()
