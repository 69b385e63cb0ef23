"""The per-row decision that `run`, `plan` and `test` share."""

from __future__ import annotations

from typing import Any

from engine.plugins import load_registry
from engine.rows import Rejection, Row
from engine.run.row_outcome import Filtered, compile_decide
from engine.transforms.base import TransformContext
from engine.transforms.mapping import compile_mapping
from tests.unit.delivery.fakes import FakeEndpoint


class NeedsName(FakeEndpoint):
    def check(self, payload: Any) -> tuple[str | None, str] | None:
        return None if payload.get("name") else ("name", "is required")


def decide_rows(*rows: Row) -> list[Any]:
    mapping = compile_mapping(
        {"id": "id", "name": "name", "total": {"from": "total", "transforms": ["number"]}},
        load_registry().transforms,
        TransformContext("+08:00"),
        row_filter="status == 'active'",
        dedupe_key="id",
    )
    decide = compile_decide(mapping, NeedsName())
    return [decide(row) for row in rows]


def test_a_good_row_is_sent_as_its_record() -> None:
    [decision] = decide_rows(
        Row({"id": "M1", "name": "Ann", "total": "3", "status": "active"}, (1,))
    )
    assert decision == {"id": "M1", "name": "Ann", "total": 3}


def test_filtered_and_duplicate_rows_say_why() -> None:
    kept, dropped, again = decide_rows(
        Row({"id": "M1", "name": "Ann", "total": "1", "status": "active"}, (1,)),
        Row({"id": "M2", "name": "Bob", "total": "1", "status": "gone"}, (2,)),
        Row({"id": "M1", "name": "Ann", "total": "1", "status": "active"}, (3,)),
    )
    assert isinstance(kept, dict)
    assert isinstance(dropped, Filtered)
    assert isinstance(again, Filtered)
    assert (dropped.reason, again.reason) == ("filter", "duplicate")


def test_each_rejection_keeps_what_the_reject_file_shows() -> None:
    unreadable, bad_total, no_name = decide_rows(
        Row(None, (1,), "unterminated quote"),
        Row({"id": "M1", "name": "Ann", "total": "lots", "status": "active"}, (2,)),
        Row({"id": "M2", "name": "", "total": "1", "status": "active"}, (3,)),
    )
    assert unreadable == Rejection((1,), "unterminated quote")
    assert isinstance(bad_total, Rejection)
    assert (bad_total.position, bad_total.field, bad_total.payload) == ((2,), "total", None)
    assert bad_total.values == {"id": "M1", "name": "Ann", "total": "lots", "status": "active"}
    assert no_name == Rejection((3,), "is required", "name", {"id": "M2", "total": 1})


def test_a_row_without_values_or_error_is_unreadable() -> None:
    [decision] = decide_rows(Row(None, (7,)))
    assert decision == Rejection((7,), "unreadable row")
