"""The malformed-input corpus: every kind of broken export the issue lists, built in code.

A case is a name and the bytes of one input file (CSV or JSON Lines), or a Parquet table, or SQL
rows; each is run through the real runner to the sandbox, and the run must end without a traceback
with every row accounted for. The kinds are crossed with line endings and gzip, so each reader path
(split, decode, quote, decompress) meets each defect.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

HEADER = ["member_sn", "name", "email"]
GOOD = [[f"M{i:03d}", f"會員{i}", f"m{i}@example.com"] for i in range(1, 13)]
ENDINGS = {"lf": "\n", "crlf": "\r\n", "cr": "\r", "mixed": None}
BIG = "123456789012345678901234567890"


@dataclass(frozen=True)
class FileCase:
    id: str
    suffix: str  # .csv, .csv.gz, .jsonl, .jsonl.gz, .parquet
    build: Callable[[], bytes]  # built when the case runs: some inputs are 10 MB
    options: dict[str, Any]  # extra source options (encoding, ...)

    @property
    def fmt(self) -> str:
        return self.suffix.split(".")[1]


def _join(lines: list[str], ending: str) -> str:
    if ENDINGS[ending] is not None:
        return "".join(line + str(ENDINGS[ending]) for line in lines)
    cycle = ["\n", "\r\n", "\r"]
    return "".join(line + cycle[i % 3] for i, line in enumerate(lines))


def _csv_line(cells: list[str]) -> str:
    return ",".join(f'"{c}"' if any(ch in c for ch in ',"\r\n') else c for c in cells)


def _rows(bad: dict[int, str] | None = None, header: str | None = None) -> list[str]:
    lines = [header if header is not None else ",".join(HEADER)]
    lines += [_csv_line(row) for row in GOOD]
    for at, line in sorted((bad or {}).items()):
        lines.insert(at, line)
    return lines


CsvKind = Callable[[str], tuple[bytes, dict[str, Any]]]


def _text(lines: list[str], encoding: str = "utf-8") -> CsvKind:
    return lambda ending: (_join(lines, ending).encode(encoding), {})


def _raw(build: Callable[[str], bytes], **options: Any) -> CsvKind:
    return lambda ending: (build(ending), options)


CSV_KINDS: dict[str, CsvKind] = {
    "clean": _text(_rows()),
    "ragged-extra": _text(_rows({3: "M901,x,x@example.com,extra"})),
    "ragged-short": _text(_rows({3: "M902,x"})),
    "ragged-empty-cells": _text(_rows({4: ",,"})),
    "unclosed-quote-middle": _text(_rows({5: 'M903,"broken,x@example.com'})),
    "unclosed-quote-last": _text([*_rows(), 'M904,"never closed']),
    "quote-then-text": _text(_rows({2: 'M905,"a"b,x@example.com'})),
    "quoted-newlines": _text(_rows({2: 'M906,"two\nlines",q@example.com'})),
    "nul-byte": _text(_rows({3: "M907,na\x00me,n@example.com"})),
    "nul-only-line": _text(_rows({3: "\x00\x00\x00"})),
    "invalid-utf8": _raw(
        lambda e: _join(_rows(), e).encode() + b"M908,\xff\xfe\xfa,z@example.com" + b"\n"
    ),
    "invalid-big5": _raw(
        lambda e: _join(_rows(), e).encode("big5") + b"M909,\x80\x7f,z@example.com\n",
        encoding="big5",
    ),
    "invalid-shift-jis": _raw(
        lambda e: (
            _join(_rows(), e).encode("shift_jis", errors="replace")
            + b"M910,\xa0\xa0,z@example.com\n"
        ),
        encoding="shift_jis",
    ),
    "latin1-declared-utf8": _raw(
        lambda e: _join(_rows(), e).encode() + "M911,Zoë,z@example.com\n".encode("latin-1")
    ),
    "utf16-le": _raw(lambda e: codecs.BOM_UTF16_LE + _join(_rows(), e).encode("utf-16-le")),
    "utf16-be": _raw(lambda e: codecs.BOM_UTF16_BE + _join(_rows(), e).encode("utf-16-be")),
    "utf8-bom": _raw(lambda e: codecs.BOM_UTF8 + _join(_rows(), e).encode()),
    "utf8-bom-sig-declared": _raw(
        lambda e: codecs.BOM_UTF8 + _join(_rows(), e).encode(), encoding="utf-8-sig"
    ),
    "duplicate-header": _text(_rows(header="member_sn,name,name")),
    "padded-header": _text(_rows(header=" member_sn , name ,email ")),
    "empty-header-name": _text(_rows(header="member_sn,name,")),
    "field-past-csv-limit": _text(_rows({2: f"M912,{'長' * 140_000},l@example.com"})),
    "field-10mb": _text(_rows({2: f'M913,"{"x" * 10_000_000}",b@example.com'})),
    "formula-cells": _text(
        _rows({2: "=cmd|' /C calc'!A0,=HYPERLINK(\"x\"),@SUM(1)", 3: "+M914,-1+1,=1@example.com"})
    ),
    "empty-file": _raw(lambda e: b""),
    "header-only": _text([",".join(HEADER)]),
    "blank-lines": _text(_rows({2: "", 4: "", 6: "   "})),
    "whitespace-keys": _text(_rows({2: "   ,x,x@example.com", 3: "\t,y,y@example.com"})),
    "nulls-everywhere": _text(_rows({2: "NULL,NULL,NULL", 3: "null,None,\\N"})),
    "huge-numbers": _text(_rows({2: f"{BIG},{BIG},{BIG}@example.com", 3: "1e999,-1e999,nan"})),
    "bad-emails": _text(_rows({2: "M915,x,not-an-email", 3: "M916,y,@@"})),
    "only-newlines": _raw(lambda e: (str(ENDINGS[e] or "\r\n") * 5).encode()),
    "no-final-newline": _raw(lambda e: _join(_rows(), e).encode().rstrip(b"\r\n")),
    "very-wide-row": _text(_rows({2: ",".join(["M917"] + ["x"] * 5000)})),
    "control-chars": _text(_rows({2: "M918,a\x1b[31mred\x07,c@example.com"})),
    "emoji-and-combining": _text(_rows({2: "M919,👩‍👩‍👧 e\u0301,e@example.com"})),
}
"""Each kind crossed with the line endings; gzip and gzip cut mid-stream on top (csv_cases)."""


def _cut(data: bytes) -> bytes:
    packed = gzip.compress(data)
    return packed[: max(20, len(packed) * 2 // 3)]


def csv_cases() -> Iterator[FileCase]:
    for kind, build in CSV_KINDS.items():
        options = build("lf")[1] if kind != "field-10mb" else {}
        for ending in ENDINGS:
            yield FileCase(f"csv-{kind}-{ending}", ".csv", _data(build, ending), options)
            if ending in ("lf", "cr"):
                packed = _data(build, ending, gzip.compress)
                yield FileCase(f"csv-{kind}-{ending}-gz", ".csv.gz", packed, options)
        if kind not in ("empty-file", "only-newlines", "header-only"):
            yield FileCase(f"csv-{kind}-gz-cut", ".csv.gz", _data(build, "crlf", _cut), options)


def _data(
    build: CsvKind, ending: str, then: Callable[[bytes], bytes] = lambda b: b
) -> Callable[[], bytes]:
    return lambda: then(build(ending)[0])


def _jsonl(objects: list[Any]) -> list[str]:
    return [o if isinstance(o, str) else json.dumps(o, ensure_ascii=False) for o in objects]


GOOD_OBJECTS: list[Any] = [dict(zip(HEADER, row, strict=True)) for row in GOOD]
JSONL_KINDS: dict[str, list[Any]] = {
    "clean": GOOD_OBJECTS,
    "invalid-json": [
        *GOOD_OBJECTS[:3],
        "{member_sn: M1}",
        '{"member_sn": "M2",',
        *GOOD_OBJECTS[3:],
    ],
    "not-objects": [*GOOD_OBJECTS[:3], "[1, 2]", '"text"', "42", "null", *GOOD_OBJECTS[3:]],
    "big-integers": [*GOOD_OBJECTS, {"member_sn": int(BIG), "name": int(BIG) * 10}],
    "big-integer-custom": [*GOOD_OBJECTS, {"member_sn": "M950", "name": "n", "points": int(BIG)}],
    "nan-infinity": [
        *GOOD_OBJECTS,
        '{"member_sn": NaN}',
        '{"member_sn": "M951", "name": Infinity}',
    ],
    "nested-values": [
        *GOOD_OBJECTS,
        {"member_sn": {"id": "M952"}, "name": ["a"]},
        {"member_sn": ["M953"], "name": {"x": 1}},
    ],
    "nulls-everywhere": [*GOOD_OBJECTS, {"member_sn": None, "name": None, "email": None}, {}],
    "wrong-types": [*GOOD_OBJECTS, {"member_sn": 12345, "name": True, "email": 1.5}],
    "blank-keys": [*GOOD_OBJECTS, {"member_sn": "   ", "name": "x"}, {"member_sn": ""}],
    "blank-lines": [*GOOD_OBJECTS[:4], "", "   ", *GOOD_OBJECTS[4:]],
    "nul-in-string": [*GOOD_OBJECTS, '{"member_sn": "M954", "name": "a\\u0000b"}'],
    "duplicate-keys": [*GOOD_OBJECTS, '{"member_sn": "M955", "member_sn": "M956"}'],
    "huge-string": [*GOOD_OBJECTS, {"member_sn": "M957", "name": "x" * 2_000_000}],
    "empty-file": [],
}


def jsonl_cases() -> Iterator[FileCase]:
    for kind, objects in JSONL_KINDS.items():
        lines = _jsonl(objects)
        for ending in ("lf", "crlf", "cr", "mixed"):
            yield FileCase(f"jsonl-{kind}-{ending}", ".jsonl", _encoded(lines, ending), {})
        plain = _encoded(lines, "lf")
        yield FileCase(f"jsonl-{kind}-gz", ".jsonl.gz", lambda p=plain: gzip.compress(p()), {})
        yield FileCase(f"jsonl-{kind}-bom", ".jsonl", lambda p=plain: codecs.BOM_UTF8 + p(), {})
        if objects:
            yield FileCase(f"jsonl-{kind}-gz-cut", ".jsonl.gz", lambda p=plain: _cut(p()), {})
    invalid = b'{"member_sn": "M1", "name": "\xff"}\n'
    yield FileCase("jsonl-invalid-utf8", ".jsonl", lambda: invalid, {})


def _encoded(lines: list[str], ending: str) -> Callable[[], bytes]:
    return lambda: _join(lines, ending).encode()


def _parquet(table: pa.Table, row_group_size: int = 5) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=row_group_size)
    return sink.getvalue()


def _members(**columns: Any) -> pa.Table:
    base: dict[str, Any] = {
        "member_sn": [r[0] for r in GOOD],
        "name": [r[1] for r in GOOD],
        "email": [r[2] for r in GOOD],
    }
    base.update(columns)
    return pa.table(base)


PARQUET_KINDS: dict[str, Callable[[], bytes]] = {
    "clean": lambda: _parquet(_members()),
    "int-keys": lambda: _parquet(_members(member_sn=list(range(12)))),
    "float-keys": lambda: _parquet(_members(member_sn=[i + 0.5 for i in range(12)])),
    "null-keys": lambda: _parquet(_members(member_sn=[None] * 6 + [f"M{i}" for i in range(6)])),
    "nulls-everywhere": lambda: _parquet(
        pa.table({k: pa.array([None] * 12, pa.string()) for k in HEADER})
    ),
    "list-names": lambda: _parquet(_members(name=[[f"n{i}"] for i in range(12)])),
    "struct-names": lambda: _parquet(_members(name=[{"first": f"n{i}"} for i in range(12)])),
    "binary-names": lambda: _parquet(_members(name=[bytes([i, 255]) for i in range(12)])),
    "huge-decimals": lambda: _parquet(
        _members(points=pa.array([10**30 + i for i in range(12)], pa.decimal128(38, 0)))
    ),
    "big-uint64": lambda: _parquet(_members(points=pa.array([2**64 - 1] * 12, pa.uint64()))),
    "nan-floats": lambda: _parquet(_members(points=[float("nan")] * 6 + [float("inf")] * 6)),
    "timestamps": lambda: _parquet(
        _members(seen=pa.array([0, 2**62, -(2**62)] * 4, pa.timestamp("ns")))
    ),
    "empty-table": lambda: _parquet(pa.table({k: pa.array([], pa.string()) for k in HEADER})),
    "blank-keys": lambda: _parquet(_members(member_sn=["  "] * 3 + [f"M{i}" for i in range(9)])),
    "truncated-footer": lambda: _parquet(_members())[:-20],
    "truncated-half": lambda: _parquet(_members())[: len(_parquet(_members())) // 2],
    "not-parquet": lambda: b"member_sn,name\nM1,a\n",
    "empty-file": lambda: b"",
    "one-row-groups": lambda: _parquet(_members(), row_group_size=1),
    "missing-column": lambda: _parquet(pa.table({"member_sn": [r[0] for r in GOOD]})),
}


def parquet_cases() -> Iterator[FileCase]:
    for kind, build in PARQUET_KINDS.items():
        yield FileCase(f"parquet-{kind}", ".parquet", build, {})


def file_cases() -> list[FileCase]:
    return [*csv_cases(), *jsonl_cases(), *parquet_cases()]


SQL_KINDS: dict[str, tuple[str, list[dict[str, Any]]]] = {
    # kind: (column type of `name`, extra rows beyond the good ones)
    "clean": ("text", []),
    "nulls-everywhere": ("text", [{"member_sn": None, "name": None, "email": None}] * 3),
    "blank-keys": ("text", [{"member_sn": "   ", "name": "x", "email": None}]),
    "huge-numeric": ("numeric", [{"member_sn": "M960", "name": 10**35, "email": None}]),
    "big-integer-names": ("bigint", [{"member_sn": "M961", "name": 2**63 - 1, "email": None}]),
    "binary-names": ("binary", [{"member_sn": "M962", "name": b"\x00\xff", "email": None}]),
    "emoji-names": ("text", [{"member_sn": "M963", "name": "😀\u0301", "email": "e@example.com"}]),
    "bad-emails": ("text", [{"member_sn": "M964", "name": "x", "email": "not-an-email"}]),
    "long-text": ("text", [{"member_sn": "M965", "name": "x" * 200_000, "email": None}]),
    "control-chars": ("text", [{"member_sn": "M966", "name": "a\x1b\x07", "email": None}]),
}
