"""Number transforms: cast (between scalar types) and number (human-written amounts).

None passes through; blank text counts as missing and becomes None (an empty CSV cell is not a bad
number) except for `cast: str`, which keeps it. Text longer than MAX_NUMBER_TEXT characters, and a
typed number of more than MAX_NUMBER_DIGITS digits, is refused before any conversion: no endpoint
takes such a value, and converting it costs more than linear time.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from engine.transforms.base import Transform, TransformContext, TransformDef, TransformError
from engine.transforms.builtin._common import (
    MAX_NUMBER_TEXT,
    bounded_decimal,
    describe,
    number_text,
    schema,
)

_TRUTHY = ("true", "t", "yes", "y", "1", "on", "是", "はい")
_FALSY = ("false", "f", "no", "n", "0", "off", "否", "いいえ")


def _decimal(value: Any, transform: str) -> Decimal:
    """An exact, finite Decimal from text or a number; anything else is a row error."""
    if isinstance(value, bool):
        raise TransformError(f"{transform}: expected a number, got a bool")
    if isinstance(value, float):
        value = repr(value)  # the shortest text that round-trips: 0.1 -> Decimal("0.1")
    elif isinstance(value, str):
        value = number_text(value, transform)
        if "_" in value:
            raise TransformError(f"{transform}: not a number: {describe(value)}")
    elif not isinstance(value, int | Decimal):
        raise TransformError(f"{transform}: expected a number, got {type(value).__name__}")
    try:
        result = Decimal(value)
    except (InvalidOperation, ValueError):
        raise TransformError(f"{transform}: not a number: {describe(value)}") from None
    if not result.is_finite():
        raise TransformError(f"{transform}: not a finite number: {describe(value)}")
    return bounded_decimal(result, value, transform)


def _whole(number: Decimal, source: Any, transform: str) -> int:
    if number != number.to_integral_value():
        raise TransformError(f"{transform}: not a whole number: {describe(source)}")
    return int(number)


def _to_int(value: Any) -> Any:
    if value.__class__ is str:
        text = number_text(value, "cast")
        if not text:
            return None
        if "_" not in text:
            try:
                return int(text)
            except ValueError:
                pass
        return _whole(_decimal(text, "cast"), value, "cast")
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return _whole(_decimal(value, "cast"), value, "cast")


def _to_float(value: Any) -> Any:
    if value.__class__ is str:
        value = number_text(value, "cast")
        if not value:
            return None
    result = float(_decimal(value, "cast"))
    if not math.isfinite(result):
        raise TransformError(f"cast: out of float range: {describe(value)}")
    return result


def _to_decimal_text(value: Any) -> Any:
    if value.__class__ is str:
        value = number_text(value, "cast")
        if not value:
            return None
    number = _decimal(value, "cast")
    return format(abs(number) if number.is_zero() else number, "f")


def _to_str(value: Any) -> Any:
    if value.__class__ is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        raise TransformError(f"cast: not a finite number: {value!r}")
    if isinstance(value, int | float | Decimal):
        try:
            return str(value)
        except ValueError:  # an int past Python's 4,300-digit limit for text
            raise TransformError(
                f"cast: too many digits to write as text: {describe(value)}"
            ) from None
    raise TransformError(f"cast: cannot turn a {type(value).__name__} into text")


def _bool_caster(truthy: Sequence[str], falsy: Sequence[str]) -> Callable[[Any], Any]:
    table = {str(word).strip().casefold(): True for word in truthy}
    table.update({str(word).strip().casefold(): False for word in falsy})
    exact = {variant: flag for word, flag in table.items() for variant in _spellings(word)}
    exact_get = exact.get

    def to_bool(value: Any) -> Any:
        if value.__class__ is str:
            found = exact_get(value)
            if found is not None:
                return found
        if isinstance(value, bool):
            return value
        if isinstance(value, str) or (isinstance(value, int) and value.bit_length() <= 64):
            key = str(value).strip().casefold()
            if not key:
                return None
            if key in table:
                return table[key]
        raise TransformError(f"cast: not a recognised yes/no value: {describe(value)}")

    return to_bool


def _spellings(word: str) -> set[str]:
    """The usual ways a word is written, looked up before the slower casefold."""
    return {word, word.lower(), word.upper(), word.title()}


def _build_cast(args: str | dict[str, Any], _ctx: TransformContext) -> Transform:
    options: dict[str, Any] = {"to": args} if isinstance(args, str) else args
    target = options["to"]
    convert: Callable[[Any], Any]
    if target == "bool":
        convert = _bool_caster(options.get("truthy", _TRUTHY), options.get("falsy", _FALSY))
    else:
        convert = {"int": _to_int, "float": _to_float, "decimal": _to_decimal_text, "str": _to_str}[
            target
        ]

    def cast(value: Any) -> Any:
        return None if value is None else convert(value)

    return cast


def _number_pattern(thousands: str, decimal: str) -> re.Pattern[str]:
    """Sign or parentheses, a currency affix either side, grouped digits, decimals."""
    t, d = re.escape(thousands), re.escape(decimal)
    grouped = rf"\d{{1,3}}(?:{t}\d{{3}})+|" if thousands else ""
    core = rf"(?:{grouped}\d+)(?:{d}\d+)?|{d}\d+"
    affix_pre = r"[^\d\s()+\-]*?"
    return re.compile(
        rf"(?P<open>\()?\s*(?P<sign>[-+])?\s*(?P<pre>{affix_pre})\s*(?P<sign2>[-+])?\s*"
        rf"(?P<num>{core})\s*(?P<post>[^\d\s()]*?)\s*(?P<close>\))?"
    )


def _is_currency_affix(text: str) -> bool:
    return all(ch.isalpha() or ch == "$" or unicodedata.category(ch) == "Sc" for ch in text)


def _number_parser(thousands: str, decimal: str) -> Callable[[str], Decimal]:
    full = _number_pattern(thousands, decimal).fullmatch

    def parse(text: str) -> Decimal:
        """`text` is stripped and at most MAX_NUMBER_TEXT long (number_text)."""
        match = full(text)
        if match is None:
            raise TransformError(f"number: not a number: {describe(text)}")
        opened, sign, pre, sign2, num, post, closed = match.groups()
        if (opened is None) != (closed is None) or (sign and sign2) or (opened and (sign or sign2)):
            raise TransformError(f"number: unbalanced sign or parentheses: {describe(text)}")
        if not _is_currency_affix(pre + post):
            raise TransformError(f"number: unexpected characters around {describe(text)}")
        if thousands:
            num = num.replace(thousands, "")
        number = Decimal(num.replace(decimal, ".") if decimal != "." else num)
        return -number if opened or "-" in (sign, sign2) else number

    return parse


def _number_output(output: str, decimals: int | None) -> Callable[[Decimal, Any], Any]:
    step = Decimal(1).scaleb(-decimals) if decimals is not None else None

    def finish(number: Decimal, source: Any) -> Any:
        if step is not None:
            try:
                number = number.quantize(step, rounding=ROUND_HALF_UP)
            except InvalidOperation:
                raise TransformError(f"number: too many digits: {describe(source)}") from None
        if number.is_zero():
            number = abs(number)
        if output == "float":
            result = float(number)
            if math.isinf(result):
                raise TransformError(f"number: out of float range: {describe(source)}")
            return result
        if output == "int":
            return _whole(number, source, "number")
        return format(number, "f")

    return finish


def _build_number(args: dict[str, Any] | None, _ctx: TransformContext) -> Transform:
    options = args or {}
    thousands: str = options.get("thousands", ",")
    decimal: str = options.get("decimal", ".")
    output: str = options.get("output", "float")
    decimals = None if options.get("decimals") is None else int(options["decimals"])  # 2.0 too
    parse = _number_parser(thousands, decimal)
    finish = _number_output(output, decimals)
    t, d = re.escape(thousands), re.escape(decimal)
    grouping = rf"\d{{1,3}}(?:{t}\d{{3}})+|" if thousands else ""
    # The usual cell ("1,234.50", "-12"): one regex, no affixes, straight to float.
    plain = re.compile(rf"-?(?:{grouping}\d+)(?:{d}\d+)?").fullmatch
    fast_float = output == "float" and decimals is None

    def number(value: Any) -> Any:
        if value.__class__ is str:
            text = number_text(value, "number")  # below MAX_NUMBER_TEXT no float overflows
            if not text:
                return None
            if plain(text):
                if thousands:
                    text = text.replace(thousands, "")
                if decimal != ".":
                    text = text.replace(decimal, ".")
                return float(text) if fast_float else finish(Decimal(text), value)
            return finish(parse(text), value)
        if value is None:
            return None
        return finish(_decimal(value, "number"), value)

    return number


_CAST_TARGETS = ["int", "float", "decimal", "bool", "str"]
_WORDS = {"type": "array", "items": {"type": ["string", "integer"]}, "minItems": 1}

DEFINITIONS = [
    TransformDef(
        name="cast",
        args_schema=schema(
            {
                "anyOf": [
                    {"enum": _CAST_TARGETS},
                    {
                        "type": "object",
                        "properties": {
                            "to": {"enum": _CAST_TARGETS},
                            "truthy": _WORDS,
                            "falsy": _WORDS,
                        },
                        "required": ["to"],
                        "additionalProperties": False,
                        "if": {"properties": {"to": {"const": "bool"}}},
                        "else": {"properties": {"truthy": False, "falsy": False}},
                    },
                ]
            }
        ),
        build=_build_cast,
        summary=(
            'Convert to int, float, decimal (exact text such as "1234.50"), bool (with '
            "`truthy`/`falsy` word lists, case-insensitive) or str. Blank text becomes None "
            "except for str; `int` rejects non-whole numbers instead of cutting them. Text "
            f"longer than {MAX_NUMBER_TEXT} characters is refused without being read."
        ),
        example="{cast: {to: bool, truthy: [Y, 是], falsy: [N, 否]}}",
        example_input="是",
        example_output=True,
    ),
    TransformDef(
        name="number",
        args_schema=schema(
            {
                "type": ["object", "null"],
                "properties": {
                    "thousands": {"enum": [",", ".", " ", "'", "\u00a0", ""]},
                    "decimal": {"enum": [".", ","]},
                    "output": {"enum": ["float", "int", "string"]},
                    "decimals": {"type": "integer", "minimum": 0, "maximum": 12},
                },
                "additionalProperties": False,
                "allOf": [
                    {
                        "if": {"required": ["output"], "properties": {"output": {"const": "int"}}},
                        "then": {"properties": {"decimals": {"const": 0}}},
                    },
                    {
                        "if": {"required": ["decimal"], "properties": {"decimal": {"const": ","}}},
                        "then": {
                            "required": ["thousands"],
                            "properties": {"thousands": {"not": {"const": ","}}},
                        },
                    },
                ],
            }
        ),
        build=_build_number,
        summary=(
            "Parse a written amount: thousands separators, currency signs or codes either side "
            "(NT$, ¥, USD, 元), a sign or accounting parentheses. Output `float` (default), `int` "
            "(whole numbers only) or `string`; `decimals: N` rounds half up. Text longer than "
            f"{MAX_NUMBER_TEXT} characters is refused without being read."
        ),
        example="{number: {output: string, decimals: 2}}",
        example_input="NT$1,234.5",
        example_output="1234.50",
    ),
]
