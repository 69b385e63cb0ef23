"""The conformance corpus: every example request body of the reference pages is accepted by the
local record check and by the sandbox, or listed in docs/endpoints.md with the reason omnisync
refuses it (tests/corpora/reference_examples.json, generated from the pages with page and line)."""

from __future__ import annotations

import asyncio
import os
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.omnisegment.catalogue import CATALOGUE
from connectors.omnisegment.destination import OmniSegmentDestination, check_destination
from connectors.omnisegment.record_schema import data_schema
from tests.conftest import ROOT, TEST_API_KEY, TEST_TID, RunningSandbox
from tests.corpora.reference_examples import extract, load

EXAMPLES = load()
DOCS = ROOT / "docs" / "endpoints.md"
_REFUSAL = re.compile(r"^- `([^`]+:\d+)`[^:]*: (.+)$")


def documented_refusals() -> dict[str, str]:
    """id -> reason, from the list under 'Reference examples omnisync refuses' in the docs."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Reference examples omnisync refuses", 1)[1].split("\n## ", 1)[0]
    found = (_REFUSAL.match(line) for line in section.splitlines())
    return {match.group(1): match.group(2) for match in found if match}


REFUSED = documented_refusals()


def block_for(example: Mapping[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """The sync's destination block and the records that produce the example's request."""
    body = dict(example["body"])
    for name, definition in CATALOGUE.items():
        for mode, route in definition.routes.items():
            paths = (route.path, *route.other_paths)
            if example["path"] not in paths:
                continue
            data = body.get(route.data_key) if route.data_key else None
            if route.data_key and (isinstance(data, list) != route.as_list):
                continue  # gift vouchers: an object for `single`, a list for `list`
            block: dict[str, Any] = {"endpoint": name, "mode": mode}
            if example["path"] != route.path:
                block["path"] = example["path"]
            options = {k: body.pop(k) for k in list(body) if k in route.option_names}
            block["options"] = options
            body.pop("api_key", None)
            body.pop("tid", None)
            if route.data_key is None:
                return block, [body]
            rows = data if isinstance(data, list) else [data]
            if definition.plain_value_option:
                return block, [{options[definition.plain_value_option]: v} for v in rows]
            if definition.plain_value_field:  # workflow_trigger: member_sn_list
                return block, [{definition.plain_value_field: v} for v in rows]
            return block, rows
    raise AssertionError(f"{example['id']}: no omnisync endpoint has the path {example['path']}")


def post(url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def local_problems(block: dict[str, Any], records: list[Any], url: str) -> list[str]:
    """What omnisync refuses before sending: the destination block, then each record."""
    definition = CATALOGUE[block["endpoint"]]
    mapped = frozenset(key for record in records for key in record)
    schema = data_schema(definition.schema)
    if schema.get("additionalProperties") is not False:  # the example's custom fields, declared
        block = {**block, "custom_fields": sorted(mapped - set(schema.get("properties", {})))}
    issues = [issue.message for issue in check_destination(definition, block, mapped)]
    if issues:
        return issues
    endpoint = _endpoint(block, url)
    return [str(problem) for record in records if (problem := endpoint.check(record))]


def _endpoint(block: dict[str, Any], url: str) -> Any:
    async def make() -> Any:
        connection = {"base_url": url, "tid": TEST_TID, "api_key": TEST_API_KEY}
        async with OmniSegmentDestination(connection) as destination:
            return destination.endpoint(block)

    return asyncio.run(make())


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["id"] for e in EXAMPLES])
def test_reference_example(example: dict[str, Any], sandbox: RunningSandbox) -> None:
    """Accepted locally and answered 200 by the sandbox, or a documented refusal refused locally."""
    block, records = block_for(example)
    problems = local_problems(block, records, sandbox.url)
    if example["id"] in REFUSED:
        assert problems, f"documented as refused but accepted: {REFUSED[example['id']]}"
        return
    assert problems == [], example["repairs"]
    request = _endpoint(block, sandbox.url).build_request(records)
    status, answer = post(request.url, request.body, request.headers)
    assert status == 200, answer.decode()
    assert orjson.loads(answer)["SUCCESS"] is True
    stored = sum(len(rows) for rows in sandbox.call(lambda: sandbox.sandbox.state.records).values())
    assert stored == len(records)


def test_every_documented_refusal_is_an_example() -> None:
    """The docs list no refusal the corpus does not have (a stale line would hide nothing)."""
    ids = {example["id"] for example in EXAMPLES}
    assert set(REFUSED) <= ids, sorted(set(REFUSED) - ids)


def test_the_corpus_has_every_page_with_a_request_body() -> None:
    """Each import page of the reference contributes its examples (none silently skipped)."""
    pages = {example["page"] for example in EXAMPLES}
    assert {
        "Import-Audience-API.md",
        "Batch-Import-Audience-API.md",
        "Import-Purchase-Data-API.md",
        "Batch-Import-Purchase-Data-API.md",
        "Import-Gift-Voucher.md",
        "Batch-Import-Gift-Voucher.md",
        "Import-Product-API.md",
        "Import-Event-Registration-API.md",
        "Import-Product-Guarantee-API.md",
        "Audience-Mapping-API.md",
        "Batch-Import-Blacklist-API.md",
        "Event-Tracking-API.md",
        "Import-Questionnaire-API.md",
        "Import-Audience-Questionnaire-Data.md",
        "openapi.yaml",
    } <= pages
    assert len(EXAMPLES) >= 120


def test_the_corpus_is_what_the_pages_give() -> None:
    """With a copy of the vendor's pages in OMNISYNC_REFERENCE_PAGES, extracting them again gives
    the checked-in corpus (the corpus is generated, never edited by hand)."""
    pages = os.environ.get("OMNISYNC_REFERENCE_PAGES")
    if not pages:
        pytest.skip("OMNISYNC_REFERENCE_PAGES is not set")
    assert extract(Path(pages)) == EXAMPLES
