"""One OmniSegment endpoint as a sync uses it: checks records, builds requests, judges answers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote

import orjson
from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match

from connectors.omnisegment.endpoints import EndpointDef, Route
from engine.contracts import Answer, HttpRequest, Verdict
from engine.fastcheck import Predicate, compile_schema

_JSON = {"Content-Type": "application/json"}


@cache
def data_validator(schema_file: str) -> Draft202012Validator:
    text = resources.files("connectors.omnisegment").joinpath("schemas", schema_file).read_text()
    return Draft202012Validator(json.loads(text))


@cache
def fast_check(schema_file: str) -> Predicate:
    """The compiled form of the same schema; jsonschema itself when it cannot be compiled."""
    validator = data_validator(schema_file)
    return compile_schema(validator.schema) or validator.is_valid


class OmniSegmentEndpoint:
    def __init__(
        self,
        definition: EndpointDef,
        route: Route,
        base_url: str,
        tid: str,
        api_key: str,
        options: Mapping[str, Any],
    ) -> None:
        self.definition = definition
        self.route = route
        self.name = definition.name
        self.batch_size = route.cap
        self.rate_limit = definition.rate_limit
        self.personal_fields = definition.personal_fields
        self.limiter_key = f"{base_url}{route.path}#{tid}"
        self._validator = data_validator(definition.schema)
        self._is_valid = fast_check(definition.schema)
        if route.auth == "header":
            self._url = f"{base_url}{route.path}?tid={quote(tid)}"
            self._headers = {**_JSON, "X-OmniSegment-Api-Key": api_key}
            self._envelope: dict[str, Any] = dict(options)
        else:
            self._url = f"{base_url}{route.path}"
            self._headers = dict(_JSON)
            self._envelope = {"tid": tid, "api_key": api_key, **options}

    def check(self, payload: Any) -> tuple[str | None, str] | None:
        if self._is_valid(payload):
            return None
        error = best_match(self._validator.iter_errors(payload))
        return describe(error)

    def key(self, payload: Any) -> str | None:
        if isinstance(payload, Mapping):
            for name in self.definition.key_fields:
                value = payload.get(name)
                if value is not None:
                    return str(value)
            return None
        return str(payload)

    def build_request(self, payloads: list[Any]) -> HttpRequest:
        data = payloads if self.route.cap > 1 else payloads[0]
        body = orjson.dumps({**self._envelope, self.route.data_key: data})
        return HttpRequest("POST", self._url, body, self._headers)

    def judge(self, status: int, body: bytes, headers: Mapping[str, str]) -> Answer:
        message = _error_message(body)
        if status == 200:
            parsed = _parse(body)
            if not isinstance(parsed, dict) or parsed.get("SUCCESS") is not True:
                return Answer(Verdict.REJECTED, message or "200 without SUCCESS: true")
            inner = parsed.get("PAYLOAD")
            if isinstance(inner, dict) and inner.get("status") not in (None, "OK"):
                return Answer(Verdict.REJECTED, str(inner.get("error_msg") or inner["status"]))
            return Answer(Verdict.ACCEPTED)
        if status == 400:
            return Answer(Verdict.REJECTED, message or "400 Bad Request")
        if status in (401, 403):
            return Answer(Verdict.AUTH, message or f"{status}: tid or api_key refused")
        if status == 429:
            return Answer(Verdict.THROTTLED, message or "429", _retry_after(headers))
        if status in (502, 503, 504):
            return Answer(Verdict.UNAVAILABLE, message or str(status), _retry_after(headers))
        return Answer(Verdict.FAILED, message or f"HTTP {status}")


def describe(error: ValidationError) -> tuple[str | None, str]:
    """(field, reason) in the user's words."""
    path = list(error.absolute_path)
    field = ".".join(str(p) for p in path) or None
    if error.validator == "anyOf" and all("required" in s for s in error.validator_value):
        options = [" with ".join(s["required"]) for s in error.validator_value]
        return options[0].split(" with ")[0], "missing required field: " + " or ".join(options)
    if error.validator == "required":
        missing = [r for r in error.validator_value if r not in error.instance]
        name = ".".join([*map(str, path), missing[0]]) if missing else field
        return name, f"missing required field '{name}'"
    if error.validator == "enum":
        return (
            field,
            f"{error.instance!r} is not one of {', '.join(map(repr, error.validator_value))}",
        )
    return field, f"{error.message}"


def _parse(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _error_message(body: bytes) -> str:
    parsed = _parse(body)
    if isinstance(parsed, dict) and parsed.get("ERR_MSG"):
        return str(parsed["ERR_MSG"])[:500]
    return ""


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
