"""CSV reading cost: omnisync's reader (universal newlines, per-line decoding, strict quoting, NUL
and unclosed-quote handling) against the csv module alone over the same bytes.

    python bench/csv_reader.py [-n ROWS]

Prints rows/s for LF, CRLF and CR-only files and the ratio to the bare csv module (LF).
"""

from __future__ import annotations

import argparse
import csv
import io
import time

from connectors.readers import CsvOptions, read_csv


def sample(rows: int, ending: str) -> bytes:
    lines = ["member_sn,name,email,phone,city"]
    lines += [f"M{i:07d},會員{i},m{i}@example.com,+8869{i:08d},台北" for i in range(rows)]
    return (ending.join(lines) + ending).encode("utf-8")


def timed(fn: object, data: bytes) -> float:
    start = time.perf_counter()
    count = fn(data)  # type: ignore[operator]
    elapsed = time.perf_counter() - start
    return count / elapsed


def omnisync(data: bytes) -> int:
    return sum(1 for _ in read_csv(io.BytesIO(data), CsvOptions()))


def bare(data: bytes) -> int:
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="")
    reader = csv.reader(text)
    header = next(reader)
    return sum(1 for cells in reader if dict(zip(header, cells, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", "--rows", type=int, default=200_000)
    rows = parser.parse_args().rows
    floor = timed(bare, sample(rows, "\n"))
    print(f"csv module alone (LF): {floor:,.0f} rows/s")
    for name, ending in (("LF", "\n"), ("CRLF", "\r\n"), ("CR", "\r")):
        rate = timed(omnisync, sample(rows, ending))
        print(f"omnisync read_csv ({name}): {rate:,.0f} rows/s, {rate / floor:.2f}x the csv module")


if __name__ == "__main__":
    main()
