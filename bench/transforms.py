"""How fast a compiled mapping runs: 15 mapped fields over generated member rows, one core.

    python bench/transforms.py [--rows 1000000]

Prints rows/s for the whole mapping, and the same rows through a floor (dict copy of 15 columns),
so the cost of the mapping language itself is visible. No assertions: figures go in the notes.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterator
from typing import Any

from engine.plugins import load_registry
from engine.transforms.base import TransformContext
from engine.transforms.mapping import compile_mapping

MAPPING: dict[str, Any] = {
    "member_sn": "id",
    "name": {"template": "{last_name}{first_name}"},
    "first_name": {"from": "first_name", "transforms": ["trim"]},
    "last_name": {"from": "last_name", "transforms": ["trim"]},
    "email": {"from": "email", "transforms": ["trim", "lower"]},
    "phone": {"from": "mobile", "transforms": [{"phone": {"region": "TW"}}]},
    "sex": {"from": "gender", "transforms": [{"map": {"男": "male", "女": "female"}}]},
    "birthday": {"from": "dob", "transforms": [{"date": {"input": ["%Y/%m/%d"]}}]},
    "member_level": {"from": "level", "transforms": [{"default": "1"}]},
    "city": {"from": "city", "transforms": ["trim"]},
    "zip_code": "zip",
    "tags": {"from": "tags", "transforms": [{"split": ";"}, {"join": ","}]},
    "is_subscriber": {"from": "subscribed", "transforms": [{"cast": "bool"}]},
    "point_balance": {"from": "points", "transforms": ["number"]},
    "register_type": {"const": "import"},
}

SURNAMES = "王陳林張李黃吳劉蔡楊"
GIVEN = ["小明", "美玲", "志豪", "雅婷", "建宏", "淑芬", "家豪", "怡君"]


def rows(count: int, seed: int = 7) -> Iterator[dict[str, str]]:
    rng = random.Random(seed)
    for i in range(count):
        yield {
            "id": f"M{i:07d}",
            "first_name": rng.choice(GIVEN),
            "last_name": rng.choice(SURNAMES),
            "email": f" User{i}@Example.com ",
            "mobile": f"09{rng.randrange(10_000_000, 99_999_999)}",
            "gender": rng.choice("男女"),
            "dob": f"{rng.randrange(1950, 2005)}/{rng.randrange(1, 13)}/{rng.randrange(1, 29)}",
            "level": rng.choice(["", "2", "3"]),
            "city": " 台北 ",
            "zip": "110",
            "tags": "vip;newsletter;;",
            "subscribed": rng.choice(["true", "false", "1", "0"]),
            "points": f"{rng.randrange(0, 100_000):,}",
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    data = list(rows(args.rows))
    mapping = compile_mapping(MAPPING, load_registry().transforms, TransformContext("+08:00"))
    columns = list(data[0])

    started = time.process_time()
    for row in data:
        {name: row[name] for name in columns}
    floor = time.process_time() - started

    started = time.process_time()
    apply = mapping.apply
    for row in data:
        apply(row)
    cost = time.process_time() - started

    print(f"rows                 {args.rows:>12,}")
    print(f"mapped fields        {len(MAPPING):>12}")
    print(f"mapping rows/s       {args.rows / cost:>12,.0f}   (CPU time, one core)")
    print(f"mapping µs/row       {cost / args.rows * 1e6:>12.2f}")
    print(f"floor rows/s         {args.rows / floor:>12,.0f}   (dict copy of the columns)")
    print(f"mapping / floor      {cost / floor:>12.1f}x")
    print(f"sample record        {mapping.apply(data[0])}")


if __name__ == "__main__":
    main()
