"""Micro-benchmark of the built-in transforms and the expression language.

Times each compiled closure over 200,000 realistic inputs and prints ns/call (best of 3 passes),
two expressions, and a 15-field member row as rows/s. Numbers only, no assertions. The
`int(text)` calibration line lets figures from different machines be compared.

    python bench/transforms_micro.py [calls]     # with engine importable (pip install -e .,
                                                 # or PYTHONPATH=. from the repository root)
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import cycle, islice
from typing import Any

from engine.transforms.base import OMIT, Transform, TransformContext, TransformError
from engine.transforms.builtin import TRANSFORMS
from engine.transforms.expressions import compile_expression

TW = TransformContext(default_utc_offset="+08:00")

CASES: list[tuple[str, Any, Sequence[Any] | str]] = [
    ("trim", None, ["  Alice ", "Bob", " 王小明\u3000"]),
    ("lower", None, ["Alice@Example.COM", "bob@mail.tw"]),
    ("upper", None, ["tw-a12", "jp-b7"]),
    ("truncate", 20, ["台北市信義區市府路一號十樓之三", "short"]),
    ("regex_replace", {"pattern": "[^0-9]"}, ["0912-345-678", "(02) 2345-6789"]),
    ("split", ";", ["vip;newsletter", "a; b; ;c"]),
    ("join", ",", [["vip", "newsletter"], ["a"]]),
    ("default", "unknown", ["", "x", None]),
    ("required", None, ["M0001", "M0002"]),
    ("empty", "omit", ["", "x"]),
    ("map", {"男": "male", "女": "female", "M": "male", "F": "female"}, ["男", "女", "M", "F"]),
    ("cast", "int", ["42", "1234", "7"]),
    ("cast", "bool", ["Y", "N", "true"]),
    ("number", None, ["1,234.50", "NT$1,234", "99.5", "(12.5)"]),
    ("number", {"output": "string", "decimals": 2}, ["1,234.5", "99"]),
    ("date", {"input": ["%Y/%m/%d", "%Y-%m-%d"]}, ["1990/1/2", "2001-12-31"]),
    ("date", None, ["1990-01-02", "2024-03-05"]),
    ("datetime", None, ["2024-03-05T14:30:00", "2024-03-05 14:30:00+09:00"]),
    ("datetime", {"input": "%Y/%m/%d %H:%M:%S"}, ["2024/3/5 14:30:00"]),
    ("datetime", None, [datetime(2024, 3, 5, 14, 30)]),
    ("phone", {"region": "TW"}, "unique"),  # a member table: every number different
    ("phone", {"region": "TW"}, ["0912-345-678", "(02) 2345-6789", "+886912345678"]),
    ("email", None, [" Alice@Example.COM ", "bob.chen+x@mail.ncku.edu.tw"]),
    ("hash", {"trim": True, "lowercase": True}, [" Alice@Example.COM", "bob@mail.tw"]),
]

# One record of a member sync: 15 fields, each a realistic chain.
ROW_FIELDS: list[tuple[str, list[tuple[str, Any]]]] = [
    ("id", [("trim", None), ("required", None)]),
    ("name", [("trim", None), ("truncate", 50)]),
    ("email", [("email", None)]),
    ("mobile", [("phone", {"region": "TW"})]),
    ("gender", [("map", {"values": {"男": "male", "女": "female"}, "fallback": "null"})]),
    ("dob", [("date", {"input": ["%Y/%m/%d", "%Y-%m-%d"]})]),
    ("created", [("datetime", None)]),
    ("total", [("number", None)]),
    ("points", [("cast", "int")]),
    ("tags", [("split", ";"), ("join", ",")]),
    ("vip", [("cast", "bool")]),
    ("city", [("trim", None), ("empty", "omit")]),
    ("zip", [("regex_replace", {"pattern": r"\D"}), ("default", "000")]),
    ("email_hash", [("hash", {"trim": True, "lowercase": True})]),
    ("level", [("upper", None)]),
]
ROW = {
    "id": " M0001 ",
    "name": "王小明",
    "email": " Ming@Example.COM ",
    "mobile": "0912-345-678",
    "gender": "男",
    "dob": "1990/1/2",
    "created": "2024-03-05 14:30:00",
    "total": "NT$1,234.50",
    "points": "120",
    "tags": "vip;newsletter",
    "vip": "Y",
    "city": "台北市",
    "zip": "110-01",
    "email_hash": " Ming@Example.COM ",
    "level": "gold",
}


def _unique_phones(count: int) -> list[str]:
    """Distinct Taiwanese mobiles written the usual ways, so no cache can help."""
    shapes = ["09{}-{}-{}", "09{}{}{}", "+886 9{} {} {}"]
    numbers = (f"{12_000_000 + n * 37:08d}" for n in range(count))
    return [shapes[n % 3].format(d[:2], d[2:5], d[5:]) for n, d in enumerate(numbers)]


def _time(function: Callable[[Any], Any], inputs: list[Any], repeats: int = 3) -> float:
    """Best ns per call over a few passes (the machine is shared), loop included."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for value in inputs:
            with contextlib.suppress(TransformError):
                function(value)
        best = min(best, (time.perf_counter_ns() - start) / len(inputs))
    return best


def _chain(steps: list[Transform]) -> Transform:
    def run(value: Any) -> Any:
        for step in steps:
            value = step(value)
            if value is OMIT:
                break
        return value

    return run


def _bench_row(rows: int) -> float:
    """Rows/s of the 15 chains, each row with its own phone number (no cache hits)."""
    fields = [
        (column, _chain([TRANSFORMS[name].build(args, TW) for name, args in chain]))
        for column, chain in ROW_FIELDS
    ]
    table = [{**ROW, "mobile": phone} for phone in _unique_phones(rows)]
    start = time.perf_counter()
    for row in table:
        {column: run(row[column]) for column, run in fields}
    return rows / (time.perf_counter() - start)


def main(calls: int) -> None:
    baseline = _time(lambda value: value, list(islice(cycle([1, 2]), calls)))
    print(f"{'loop baseline':<42}{baseline:>10.0f} ns/call")
    calibration = _time(int, list(islice(cycle(["2024", "1990"]), calls)))
    print(f"{'calibration: int(text)':<42}{calibration:>10.0f} ns/call")
    for name, args, samples in CASES:
        transform = TRANSFORMS[name].build(args, TW)
        label = f"{name} {args!r}" if args is not None else name
        if samples == "unique":
            label, inputs = f"{label} (all distinct)", _unique_phones(calls)
        else:
            inputs = list(islice(cycle(samples), calls))
        ns = _time(transform, inputs, repeats=1 if samples == "unique" else 3)
        print(f"{label[:41]:<42}{ns:>10.0f} ns/call")
    for text in ["status == 'active' and total > 100", "coalesce(nick, first) + ' ' + last"]:
        evaluate = compile_expression(text)
        row = {"status": "active", "total": "150", "first": "Alice", "last": "Chen", "nick": ""}
        ns = _time(evaluate, [row] * calls)
        print(f"{'expr ' + text[:36]:<42}{ns:>10.0f} ns/call")
    rows = max(calls // 10, 1000)
    print(f"{'15-field member row (chains only)':<42}{_bench_row(rows):>10.0f} rows/s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
