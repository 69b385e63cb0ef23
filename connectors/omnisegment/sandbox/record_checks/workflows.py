"""Workflow triggers (openapi.yaml, Trigger Workflow): each item of member_sn_list is a member
serial number, a string (`items: {type: string}`, example `['123', '12345']`)."""

from __future__ import annotations

from typing import Any

from connectors.omnisegment.sandbox.values import INPUT, Envelope, Problem, is_text


def member_sn(value: Any, where: str, _envelope: Envelope) -> Problem:
    """One member of the list: non-empty text."""
    return None if is_text(value) and value else (INPUT, f"{where} should be a non-empty string")
