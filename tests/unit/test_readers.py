"""The shared format readers on small in-memory streams."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest

from connectors.json_safe import json_safe
from connectors.readers import CsvOptions, format_of, read_csv, read_jsonl
from engine.errors import SourceSettingError


def csv_rows(data: bytes, **options: object) -> list[tuple[int, object, object]]:
    return list(read_csv(io.BytesIO(data), CsvOptions(**options)))  # type: ignore[arg-type]


def test_bad_bytes_inside_a_quoted_multiline_field_reject_that_record_only() -> None:
    """The record spanning lines 3-4 holds the bad byte on line 4: it alone is rejected, at line 3."""
    data = b'id,note\r\n1,ok\r\n2,"first\r\nsecond \xff"\r\n3,fine\r\n'

    assert csv_rows(data) == [
        (2, {"id": "1", "note": "ok"}, None),
        (3, None, "line 4: not valid utf-8 (byte 0xff at column 8)"),
        (5, {"id": "3", "note": "fine"}, None),
    ]


def test_utf8_bom_is_dropped_and_headers_renamed() -> None:
    """utf-8-sig removes the BOM from the first header; rename maps header names."""
    data = "\ufeff編號,姓名\n7,王\n".encode()

    rows = csv_rows(data, encoding="utf-8-sig", rename={"編號": "id", "姓名": "name"})

    assert rows == [(2, {"id": "7", "name": "王"}, None)]


def test_renaming_a_column_the_header_lacks_is_a_setting_error_at_the_rename() -> None:
    with pytest.raises(SourceSettingError, match=r"rename: the header has no column 'mail'") as e:
        csv_rows(b"id,name\n1,a\n", rename={"mail": "email"})

    assert (e.value.path, e.value.at_key) == (("rename", "mail"), True)


def test_resume_skips_records_up_to_the_line() -> None:
    data = b"id\n1\n2\n3\n"

    assert [n for n, *_ in read_csv(io.BytesIO(data), CsvOptions(), skip_to=3)] == [4]


def test_jsonl_rejects_bad_json_and_non_objects_with_their_line() -> None:
    data = b'{"a": 1}\n\n{"a": \n[1, 2]\n{"a": 2}\n'

    assert list(read_jsonl(io.BytesIO(data))) == [
        (1, {"a": 1}, None),
        (3, None, "line 3: not valid JSON (unexpected end of data)"),
        (4, None, "line 4: expected a JSON object, found list"),
        (5, {"a": 2}, None),
    ]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.csv.gz", "csv"),
        ("a/b.JSONL", "jsonl"),
        ("x.ndjson.gz", "jsonl"),
        ("p.parquet", "parquet"),
    ],
)
def test_format_follows_the_suffix(name: str, fmt: str) -> None:
    assert format_of(name) == fmt


def test_json_safe_choices() -> None:
    """Decimal stays exact as text; offsets are kept; bytes become hex."""
    taipei = dt.timezone(dt.timedelta(hours=8))
    assert json_safe(Decimal("10.50")) == "10.50"
    assert json_safe(dt.datetime(2024, 5, 1, 9, 30, tzinfo=taipei)) == "2024-05-01T09:30:00+08:00"
    assert json_safe(dt.datetime(2024, 5, 1, 9, 30)) == "2024-05-01T09:30:00"
    assert json_safe(dt.date(2024, 5, 1)) == "2024-05-01"
    assert json_safe(b"\x00\xff") == "00ff"
    assert json_safe(float("nan")) is None
    assert json_safe({"k": [Decimal("1")]}) == {"k": ["1"]}
