"""Field slots benchmark: what naming the changed fields costs change detection, per record.

    python bench/field_slots.py            # 200,000 records of 8 fields
    python bench/field_slots.py -n 20000

A digest is an 8-byte hash of the whole record and 8 field slots (engine/state/change_detection.py).
The slots are computed only for the records a run sends; an unchanged rerun compares the whole
record's hash alone. Printed: CPU per record of the key hash and whole-record hash (what an
unchanged record costs), the same plus the field slots (what a sent record costs), and the ratio.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.state.change_detection import DIGEST_BYTES, WHOLE_BYTES, FieldSlots

OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def records(count: int) -> list[dict[str, object]]:
    return [
        {
            "member_sn": f"M{i:07d}",
            "name": f"member {i}",
            "email": f"m{i}@example.com",
            "mobile": "+886912345678",
            "gender": "F",
            "birthday": "1990-01-01",
            "city": "Taipei",
            "points": i,
        }
        for i in range(count)
    ]


def per_record(payloads: list[dict[str, object]], slots: FieldSlots | None) -> float:
    """CPU microseconds a record: key hash, whole-record hash, and the slots when given."""
    space, blake2b = slots.namespace if slots else b"s" * 32, hashlib.blake2b
    started = time.process_time()
    for payload in payloads:
        key = str(payload["member_sn"]).encode()
        blake2b(key, digest_size=DIGEST_BYTES, key=space).digest()
        whole = blake2b(orjson.dumps(payload, option=OPTIONS), digest_size=WHOLE_BYTES, key=space)
        if slots is not None:
            whole.digest() + slots(payload)
    return (time.process_time() - started) / len(payloads) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--records", type=int, default=200_000)
    payloads = records(parser.parse_args().records)
    plain = per_record(payloads, None)
    slotted = per_record(payloads, FieldSlots(b"s" * 32))
    print(f"{len(payloads):,} records of 8 fields")
    print(f"unchanged record (key + whole hash):   {plain:.2f} us")
    print(f"sent record (+ 8 field slots):         {slotted:.2f} us")
    print(f"field slots: x{slotted / plain:.2f} the hashing of a sent record")


if __name__ == "__main__":
    main()
