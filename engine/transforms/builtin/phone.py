"""Phone numbers to E.164 (or another format) through Google's libphonenumber port.

None passes through; blank text becomes None. A number that does not parse, or is not a valid
number for its region, rejects the row. The library (its metadata alone takes longer to import than
`omnisync validate` to run) loads when a spec uses the transform.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from engine.lazy import lazy_module
from engine.transforms.base import (
    Transform,
    TransformArgsError,
    TransformContext,
    TransformDef,
    TransformError,
)
from engine.transforms.builtin._common import as_text, describe, schema

if TYPE_CHECKING:
    import phonenumbers
    from phonenumbers import phonemetadata
else:
    phonenumbers = lazy_module("phonenumbers")
    phonemetadata = lazy_module("phonenumbers.phonemetadata")

_FORMATS = {"e164": "E164", "international": "INTERNATIONAL", "national": "NATIONAL"}
_PARSE_ERRORS = {  # NumberParseException's error types, by name
    "INVALID_COUNTRY_CODE": "no country code (set region, or write +code)",
    "NOT_A_NUMBER": "not a phone number",
    "TOO_SHORT_AFTER_IDD": "too short after the international prefix",
    "TOO_SHORT_NSN": "too short",
    "TOO_LONG": "too long",
}
_SEPARATORS = str.maketrans("", "", " -().\u3000")
_CACHE_SIZE = 8192  # purchases repeat a member's number row after row
_MAX_PHONE_TEXT = 64  # libphonenumber's own limit is 250; real cells are far shorter


def _fast_e164(region: str | None) -> Callable[[str], str | None]:
    """E.164 for the everyday shapes of a region's valid numbers (of any type), or None.

    libphonenumber's parse+validate costs ~45 µs a number here, which alone would cap a mapping
    at ~22k rows/s. Most cells are '0912-345-678' or '+886 912 345 678': for those we apply the
    library's own metadata (national prefix, the general pattern, each number type's pattern and
    possible lengths) directly, as its validity test does. Anything else, or any doubt, returns
    None and takes the full library path; a property test holds the two paths equal.
    """
    meta = phonemetadata.PhoneMetadata.metadata_for_region(region) if region else None
    if meta is None or meta.country_code is None or meta.general_desc is None:
        return lambda _text: None
    country = str(meta.country_code)
    general_desc = meta.general_desc
    general = re.compile(general_desc.national_number_pattern or "(?!)")
    prefix = re.compile(meta.national_prefix_for_parsing or meta.national_prefix or "(?!)")
    kinds = _number_kinds(meta)
    general_lengths = frozenset(general_desc.possible_length or ())

    def valid(nsn: str) -> bool:
        if not general.fullmatch(nsn):
            return False
        size = len(nsn)
        return any(
            pattern.fullmatch(nsn) and size in (lengths or general_lengths)
            for pattern, lengths in kinds
        )

    def fast(text: str) -> str | None:
        digits = text.translate(_SEPARATORS)
        international = digits.startswith("+")
        if international:
            digits = digits[1:]
            if not digits.startswith(country):
                return None
            digits = digits[len(country) :]
        if not (digits.isascii() and digits.isdigit()):
            return None
        match = prefix.match(digits)
        if match is not None:
            if international or any(match.groups()) or general.fullmatch(digits):
                return None  # carrier codes, transform rules, ambiguous prefixes: the library
            digits = digits[match.end() :]
        return f"+{country}{digits}" if valid(digits) else None

    return fast


def _number_kinds(
    meta: phonemetadata.PhoneMetadata,
) -> list[tuple[re.Pattern[str], frozenset[int]]]:
    """Each number type's pattern and possible lengths (empty: the region's general ones)."""
    return [
        (re.compile(desc.national_number_pattern), frozenset(desc.possible_length or ()))
        for desc in (
            meta.mobile,
            meta.fixed_line,
            meta.personal_number,
            meta.voip,
            meta.toll_free,
            meta.premium_rate,
            meta.shared_cost,
            meta.uan,
            meta.pager,
            meta.voicemail,
        )
        if desc is not None and desc.national_number_pattern
    ]


def _build_phone(args: dict[str, Any] | None, _ctx: TransformContext) -> Transform:
    options = args or {}
    region: str | None = options.get("region")
    if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
        raise TransformArgsError(
            f"unknown region {region!r}: libphonenumber knows {len(phonenumbers.SUPPORTED_REGIONS)}"
            " ISO 3166 codes, such as TW, HK, JP, US"
        )
    style = getattr(phonenumbers.PhoneNumberFormat, _FORMATS[options.get("format", "e164")])
    strict = options.get("validate", "valid") == "valid"
    parse, format_number = phonenumbers.parse, phonenumbers.format_number
    check = phonenumbers.is_valid_number if strict else phonenumbers.is_possible_number
    fast = _fast_e164(region) if strict and style == phonenumbers.PhoneNumberFormat.E164 else None
    failed = phonenumbers.NumberParseException
    reasons = {getattr(failed, name): text for name, text in _PARSE_ERRORS.items()}

    @lru_cache(maxsize=_CACHE_SIZE)
    def normalise(text: str) -> tuple[str | None, str | None]:
        """(number, None) or (None, reason): cached, as parsing costs ~20 µs."""
        if fast is not None and (quick := fast(text)) is not None:
            return quick, None
        try:
            number = parse(text, region)
        except failed as exc:
            reason = reasons.get(exc.error_type, "invalid")
            return None, f"phone: cannot parse {describe(text)}: {reason}"
        if not check(number):
            return None, f"phone: not a valid number: {describe(text)}"
        return format_number(number, style), None

    def phone(value: Any) -> Any:
        if value is None:
            return None
        text = as_text(value, "phone").strip()
        if not text:
            return None
        if len(text) > _MAX_PHONE_TEXT:  # before the cache: a 20 MB cell is neither kept nor hashed
            raise TransformError(f"phone: too long: {describe(text)}")
        result, error = normalise(text)
        if error is not None:
            raise TransformError(error)
        return result

    return phone


DEFINITIONS = [
    TransformDef(
        name="phone",
        args_schema=schema(
            {
                "type": ["object", "null"],
                "properties": {
                    "region": {
                        "type": "string",
                        "pattern": "^[A-Z]{2}$",
                        "description": "ISO 3166 code of a region libphonenumber knows, e.g. TW",
                    },
                    "format": {"enum": list(_FORMATS)},
                    "validate": {"enum": ["valid", "possible"]},
                },
                "additionalProperties": False,
            }
        ),
        build=_build_phone,
        summary=(
            "Normalise a phone number to E.164 (or `format: international|national`). `region` "
            "(ISO 3166 code) reads numbers written without a country code; `validate: possible` "
            "only checks the length (default `valid`: a real number plan)."
        ),
        example="{phone: {region: TW}}",
        example_input="0912-345-678",
        example_output="+886912345678",
    ),
]
