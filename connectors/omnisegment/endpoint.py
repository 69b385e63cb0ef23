"""One OmniSegment endpoint as a sync uses it: checks records, builds requests, judges answers."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any
from urllib.parse import quote

import orjson
from jsonschema.protocols import Validator

from connectors.omnisegment.endpoint_def import MEMBER_FIELDS, EndpointDef, Identity, Route
from connectors.omnisegment.fix_hints import explain, property_names
from connectors.omnisegment.reasons import reason_class
from connectors.omnisegment.record_rules import FORMATS, RULES, TYPES, RecordValidator
from connectors.omnisegment.record_schema import data_schema
from engine.contracts import Answer, HttpRequest, Verdict
from engine.fastcheck import Predicate, compile_schema

_JSON = {"Content-Type": "application/json"}


_KEPT = {
    "not": {"enum": ["", "none", None]},
    "description": (
        "a value that identifies the member ('', 'none' and null would clear it, and a field "
        "that identifies the member cannot be cleared)"
    ),
}


@cache
def data_validator(
    schema_file: str, identity: Identity | None = None, kept: tuple[str, ...] = ()
) -> Validator:
    """The record check; `identity` (when given) replaces the schema's member-key alternatives.
    `kept`: fields that may not hold '', 'none' or null, which would clear them (an audience's
    member keys: Import-Audience-API, a field that cannot be cleared is an error)."""
    schema = dict(data_schema(schema_file))
    if identity is not None:
        schema.pop("anyOf", None)
        groups = [{"required": list(group)} for group in identity]
        if len(groups) == 1:
            schema["required"] = [*schema.get("required", []), *identity[0]]
        elif groups:
            schema["anyOf"] = groups
    if kept:
        schema["allOf"] = [*schema.get("allOf", []), *_kept(kept)]
    validator: Validator = RecordValidator(schema, format_checker=FORMATS)
    return validator


def _kept(names: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"properties": {name: _KEPT}} for name in names]


def kept_fields(definition: EndpointDef, identity: Identity | None) -> tuple[str, ...]:
    """The fields a record may not clear: none where the endpoint clears nothing; else the member
    keys and the fields that identify the member under the envelope's options (merge_key)."""
    if not definition.clears:
        return ()
    return tuple(sorted({*MEMBER_FIELDS, *(name for group in identity or () for name in group)}))


@cache
def fast_check(
    schema_file: str, identity: Identity | None = None, kept: tuple[str, ...] = ()
) -> Predicate:
    """The compiled form of the same check; jsonschema itself when it cannot be compiled."""
    validator = data_validator(schema_file, identity, kept)
    compiled = compile_schema(validator.schema, format_checker=FORMATS, types=TYPES)
    return compiled or validator.is_valid


class OmniSegmentEndpoint:
    """One endpoint on one route as the delivery engine drives it: check, key, send, judge."""

    # set only on an endpoint of events (workflow_trigger): engine.contracts.FiresEvents
    event_scope: str

    def __init__(
        self,
        definition: EndpointDef,
        route: Route,
        base_url: str,
        tid: str,
        api_key: str,
        options: Mapping[str, Any],
        path: str | None = None,
    ) -> None:
        self.definition = definition
        self.route = route
        self.route_path = route.path  # named in the run report
        self.name = definition.name
        self.batch_size = route.cap
        self.rate_limit = route.rate_limit
        self.personal_fields = definition.personal_fields
        path = path or route.path  # a sync's override, where the reference is unsure
        self.limiter_key = f"{base_url}{path}#{tid}#{route.cap}"
        identity = definition.identity(options) if definition.identity else None
        kept = kept_fields(definition, identity)
        self._validator = data_validator(definition.schema, identity, kept)
        self._is_valid = fast_check(definition.schema, identity, kept)
        self._known = property_names(self._validator.schema)  # never a misspelling
        self._rules = RULES.get(definition.name, ())
        self._plain = (
            options[definition.plain_value_option]
            if definition.plain_value_option
            else definition.plain_value_field
        )
        if definition.event_option is not None:  # the node: what its events are counted in
            self.event_scope = f"{definition.event_option} {options.get(definition.event_option)}"
        envelope: dict[str, Any] = {**route.defaults, **options}
        if route.auth == "body":
            envelope = {"tid": tid, "api_key": api_key, **envelope}
        elif route.auth == "beacon":
            envelope = {"tid": tid, **envelope}
        self._envelope = envelope
        self._url = f"{base_url}{path}"
        self._headers = dict(_JSON)
        if route.auth != "body":
            self._headers["X-OmniSegment-Api-Key"] = api_key
        if route.auth == "header":
            self._url += f"?tid={quote(tid)}"

    def check(self, payload: Any) -> tuple[str | None, str] | None:
        """(field, reason) when the record would be refused; None when it can be sent."""
        if self._is_valid(payload):
            for rule in self._rules:
                problem = rule(payload)
                if problem is not None:
                    return problem
            return None
        return explain(self._validator.iter_errors(payload), self._known)

    def key(self, payload: Any) -> str | None:
        """The record's key, for idempotency, ordering and reports; None when it has none."""
        if not isinstance(payload, Mapping):
            return str(payload)
        if self._plain is not None:
            value = payload.get(self._plain)
            return None if value is None else str(value)
        if self.definition.joined_key:
            return ":".join(str(payload.get(name)) for name in self.definition.key_fields)
        for name in self.definition.key_fields:
            value = payload.get(name)
            if value is not None:
                return value if isinstance(value, str) else orjson.dumps(value).decode()
        return None

    def build_request(self, payloads: list[Any]) -> HttpRequest:
        """The POST carrying `payloads` (at most the route's cap) inside the envelope."""
        if self._plain is not None:
            payloads = [payload[self._plain] for payload in payloads]
        if self.route.data_key is None:
            body = {**self._envelope, **payloads[0]}
        else:
            data = payloads if self.route.as_list else payloads[0]
            body = {**self._envelope, self.route.data_key: data}
        return HttpRequest("POST", self._url, orjson.dumps(body), self._headers)

    def judge(self, status: int, body: bytes, headers: Mapping[str, str]) -> Answer:
        """What an answer means for its records: accepted, rejected, or worth retrying."""
        message = _error_message(body)
        if status == 200:
            parsed = _parse(body)
            if not isinstance(
                parsed, dict
            ):  # cut short or an HTML page: the records' fate is unknown
                return Answer(Verdict.FAILED, "200 with a body that is not a JSON object")
            if parsed.get("SUCCESS") is not True:
                return Answer(Verdict.REJECTED, message or "200 without SUCCESS: true")
            inner = parsed.get("PAYLOAD")
            if isinstance(inner, dict) and inner.get("status") not in (None, "OK"):
                return Answer(Verdict.REJECTED, str(inner.get("error_msg") or inner["status"]))
            return Answer(Verdict.ACCEPTED)
        if status == 400:
            message = message or "400 Bad Request"
            return Answer(Verdict.REJECTED, message, reason_class=reason_class(message))
        if status in (401, 403):
            return Answer(Verdict.AUTH, message or f"{status}: tid or api_key refused")
        if status in (404, 405):
            return Answer(
                Verdict.CONFIG, f"{status} for {self._url.split('?', 1)[0]}: check base_url"
            )
        if status == 429:
            return Answer(Verdict.THROTTLED, message or "429", _retry_after(headers))
        if status in (502, 503, 504):
            return Answer(Verdict.UNAVAILABLE, message or str(status), _retry_after(headers))
        return Answer(Verdict.FAILED, message or f"HTTP {status}")


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
