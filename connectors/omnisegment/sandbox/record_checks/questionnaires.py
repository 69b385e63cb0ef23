"""What the sandbox accepts as a questionnaire and as a member's answers to one.

From Import-Questionnaire-API.md and Import-Audience-Questionnaire-Data.md: the record is the whole
body (tid in the query, the key in the X-OmniSegment-Api-Key header). The question types are those
of the pages' examples; the answers page says a submitTime without a time zone is taken as UTC.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from connectors.omnisegment.sandbox.values import (
    INPUT,
    MISSING,
    Envelope,
    Problem,
    first,
    is_filled,
    is_int,
    is_text,
    only,
)

TYPES = frozenset(
    {"TXTSHORT", "TXTLONG", "CHOICEONE", "CHOICEMULTI", "NEST", "NESTCHILD", "DIGITINPUT",
     "DIGITSLIDE", "ITEMSORT", "RATINGBAR", "PICKFROM", "DATEPICKER"}
)  # fmt: skip
_SUBMIT_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)(Z|[+-]\d{2}(?::?\d{2})?)?"
)


def _need(body: dict[str, Any], names: tuple[str, ...]) -> Problem:
    missing = [name for name in names if not is_filled(body.get(name))]
    if missing:
        return MISSING, f"{', '.join(missing)} required"
    return None


def _numbers(value: Any) -> bool:
    return isinstance(value, list) and all(is_int(n) and n >= 0 for n in value)


def _question(item: Any, where: str) -> Problem:
    if not isinstance(item, dict):
        return INPUT, f"{where} should be an object"
    if not (is_int(item.get("sn")) and item["sn"] >= 0):
        return INPUT, f"{where}.sn should be a number"
    if not is_filled(item.get("text")):
        return MISSING, f"{where}.text required"
    if item.get("type") not in TYPES:
        return INPUT, f"{where}.type should be one of {sorted(TYPES)}"
    options = item.get("options", [])
    if not isinstance(options, list) or not all(
        isinstance(o, dict) and set(o) == {"text"} and is_filled(o["text"]) for o in options
    ):
        return INPUT, f"{where}.options should be a list of {{text}}"
    extras = item.get("extras", {})
    if (
        not isinstance(extras, dict)
        or not _numbers(extras.get("child_sn", []))
        or set(extras) - {"child_sn"}
    ):
        return INPUT, f"{where}.extras should be {{child_sn: [sn, ...]}}"
    if not _numbers(item.get("optfrom", [])):
        return INPUT, f"{where}.optfrom should be a list of sn"
    return only(item, frozenset({"sn", "text", "type", "options", "extras", "optfrom"}), where)


def questionnaire(body: Any, where: str, _envelope: Envelope) -> Problem:
    if not isinstance(body, dict):
        return INPUT, "the body should be an object"
    questions = body.get("questions", [])
    if not isinstance(questions, list):
        return INPUT, "questions should be a list"
    return first(
        _need(body, ("svid", "title")),
        only(body, frozenset({"svid", "title", "questions"}), "questionnaire"),
        next((p for i, q in enumerate(questions) if (p := _question(q, f"questions[{i}]"))), None),
    )


def _submit_time(value: Any) -> bool:
    match = _SUBMIT_TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return False
    day, time, zone = match.groups()
    offset = "+00:00" if zone in (None, "Z") else zone
    if len(offset) == 3:
        offset += ":00"
    elif ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    try:
        datetime.fromisoformat(f"{day}T{time}{offset}")
    except ValueError:
        return False
    return True


def _answer(item: Any, where: str) -> Problem:
    if not isinstance(item, dict):
        return INPUT, f"{where} should be an object"
    if not is_filled(item.get("subject")):
        return MISSING, f"{where}.subject required"
    if item.get("type") not in TYPES:
        return INPUT, f"{where}.type should be one of {sorted(TYPES)}"
    if not (is_int(item.get("sn")) and item["sn"] >= 0):
        return INPUT, f"{where}.sn should be a number"
    for name in ("answer", "otherAnswer"):
        values = item.get(name, [])
        if not (isinstance(values, list) and all(is_text(v) for v in values)):
            return INPUT, f"{where}.{name} should be a list of strings"
    return only(item, frozenset({"subject", "type", "sn", "answer", "otherAnswer"}), where)


def answers(body: Any, where: str, _envelope: Envelope) -> Problem:
    if not isinstance(body, dict):
        return INPUT, "the body should be an object"
    problem = first(
        _need(body, ("svid", "title", "status", "submitTime", "member_sn")),
        only(
            body,
            frozenset({"svid", "title", "status", "submitTime", "member_sn", "answers"}),
            "answers",
        ),
    )
    if problem is not None:
        return problem
    if not _submit_time(body["submitTime"]):
        return INPUT, "submitTime should be like 2022-02-16 08:30:20"
    items = body.get("answers", [])
    if not isinstance(items, list):
        return INPUT, "answers should be a list"
    return next((p for i, a in enumerate(items) if (p := _answer(a, f"answers[{i}]"))), None)
