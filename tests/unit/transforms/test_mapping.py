"""The mapping compiler: every field form, filters, de-duplication, on_error, empty values."""

from __future__ import annotations

from typing import Any

import pytest

from engine.plugins import load_registry
from engine.transforms.base import TransformContext
from engine.transforms.mapping import FieldError, check_mapping, compile_mapping

TW = TransformContext(default_utc_offset="+08:00")


def compile_(mapping: dict[str, Any], **kwargs: Any):  # type: ignore[no-untyped-def]
    return compile_mapping(mapping, load_registry().transforms, TW, **kwargs)


ROW = {
    "id": "M1",
    "first_name": "小明",
    "last_name": "王",
    "email": "",
    "email2": " Ming@Example.com ",
    "mobile": "0912-345-678",
    "dob": "1990/1/2",
    "gender": "男",
    "total": "1,234.50",
    "qty": "3",
    "addr": "台北市信義路五段7號",
    "city": "台北",
    "v1": "VIP100",
    "v2": "",
    "tags": "a;b;;c",
    "status": "active",
}


def test_every_field_form_in_one_mapping() -> None:
    """Column, const, template, coalesce, expr, nested object and list of objects, with chains."""
    mapping = compile_(
        {
            "member_sn": "id",
            "name": {"template": "{last_name}{first_name}"},
            "email": {"coalesce": ["email", "email2"], "transforms": ["trim", "email"]},
            "phone": {"from": "mobile", "transforms": [{"phone": {"region": "TW"}}]},
            "birthday": {"from": "dob", "transforms": [{"date": {"input": ["%Y/%m/%d"]}}]},
            "sex": {"from": "gender", "transforms": [{"map": {"男": "male", "女": "female"}}]},
            "revenue": {"from": "total", "transforms": ["number"]},
            "double_qty": {"expr": "int(qty) * 2"},
            "tags": {"from": "tags", "transforms": [{"split": ";"}, {"join": ","}]},
            "level": {"const": "1"},
            "shipping_address": {"object": {"address1": "addr", "city": "city", "zip": "zip"}},
            "voucher": {"list": [{"voucher_name": "v1"}, {"voucher_name": "v2"}]},
        }
    )

    assert mapping.apply(ROW) == {
        "member_sn": "M1",
        "name": "王小明",
        "email": "Ming@example.com",  # the local part keeps its case
        "phone": "+886912345678",
        "birthday": "1990-01-02",
        "sex": "male",
        "revenue": 1234.5,
        "double_qty": 6,
        "tags": "a,b,c",
        "level": "1",
        "shipping_address": {"address1": "台北市信義路五段7號", "city": "台北"},
        "voucher": [{"voucher_name": "VIP100"}],
    }
    assert {"id", "first_name", "last_name", "email", "email2", "addr", "v1"} <= mapping.columns


def test_a_failing_transform_rejects_naming_the_field() -> None:
    mapping = compile_({"phone": {"from": "mobile", "transforms": [{"phone": {"region": "TW"}}]}})

    with pytest.raises(FieldError) as caught:
        mapping.apply({"mobile": "not a phone"})

    assert caught.value.field == "phone"


def test_nested_failures_name_the_whole_path() -> None:
    mapping = compile_(
        {"shipping_address": {"object": {"zip": {"from": "zip", "transforms": ["required"]}}}}
    )

    with pytest.raises(FieldError) as caught:
        mapping.apply({"zip": ""})

    assert caught.value.field == "shipping_address.zip"


@pytest.mark.parametrize(("on_error", "expected"), [("null", {"phone": None}), ("omit", {})])
def test_on_error_null_or_omit_keeps_the_row(on_error: str, expected: dict[str, Any]) -> None:
    mapping = compile_(
        {"phone": {"from": "m", "transforms": [{"phone": {"region": "TW"}}], "on_error": on_error}}
    )

    assert mapping.apply({"m": "garbage"}) == expected


def test_empty_values_are_left_out_unless_the_spec_asks_to_clear() -> None:
    """A blank cell must not clear data; `{empty: null}` sends null, `{empty: none}` sends 'none'."""
    mapping = compile_(
        {
            "name": "name",
            "email": {"from": "email", "transforms": [{"empty": "null"}]},
            "phone": {"from": "phone", "transforms": [{"empty": "none"}]},
        }
    )

    assert mapping.apply({"name": "", "email": "", "phone": " "}) == {
        "email": None,
        "phone": "none",
    }


def test_filter_and_dedupe_drop_rows_with_a_reason() -> None:
    mapping = compile_({"member_sn": "id"}, row_filter="status == 'active'", dedupe_key="member_sn")

    assert mapping.apply({"id": "1", "status": "active"}) == {"member_sn": "1"}
    assert mapping.apply({"id": "2", "status": "gone"}) is None
    assert mapping.last_drop_reason == "filter"
    assert mapping.apply({"id": "1", "status": "active"}) is None
    assert mapping.last_drop_reason == "duplicate"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"a": {"from": "x", "const": 1}}, "has from, const: choose one of"),
        ({"a": {"transforms": ["trim"]}}, "needs one of from, const"),
        (
            {"a": {"from": "x", "transforms": ["lowr"]}},
            "unknown transform 'lowr' (did you mean 'lower'?)",
        ),
        ({"a": {"expr": "__import__('os')"}}, "invalid expression"),
        ({"a": {"template": "{}"}}, "invalid template field"),
        ({"a": {"from": "x", "transforms": [{"truncate": "ten"}]}}, "bad arguments for 'truncate'"),
        (
            {"a": {"from": "x", "transforms": [{"phone": {"region": "TX"}}]}},
            "bad arguments for 'phone': unknown region 'TX': libphonenumber knows",
        ),
        (
            {"a": {"from": "x", "transforms": [{"phone": {"region": "tw"}}]}},
            "bad arguments for 'phone': 'tw' does not match",
        ),
        (
            {"a": {"object": {"b": {"from": "x", "transforms": ["nope"]}}}},
            "unknown transform 'nope'",
        ),
    ],
)
def test_check_mapping_refuses_bad_definitions(mapping: dict[str, Any], message: str) -> None:
    issues = check_mapping(mapping, load_registry().transforms)

    assert any(message in issue.message for issue in issues), issues
