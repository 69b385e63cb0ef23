"""Questionnaires (Import-Questionnaire-API.md) and a member's answers
(Import-Audience-Questionnaire-Data.md): delivered, with the route decisions of docs/endpoints.md,
and a sync may override the path or host where the reference is unsure."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from connectors.omnisegment.destination import OmniSegmentDestination
from tests.conftest import TEST_TID, RunningSandbox
from tests.integration.delivery import deliver
from tests.integration.endpoint_cases import ANSWERS, QUESTIONNAIRE

ANSWERS_PATH = "/api/v1/questionnaire/import-audience-answers/"
EXAMPLE_PATH = "/api/v1/questionnaire/import-audience-questionnaire-data/"


def send(
    sandbox: RunningSandbox, tmp_path: Path, destination: dict[str, Any], record: dict[str, Any]
) -> tuple[int, list[dict[str, Any]]]:
    stats, rejects = asyncio.run(deliver(sandbox.url, destination, [record], tmp_path / "r.jsonl"))
    return stats.delivered, rejects


def test_a_questionnaire_is_delivered(sandbox: RunningSandbox, tmp_path: Path) -> None:
    delivered, rejects = send(sandbox, tmp_path, {"endpoint": "questionnaire"}, QUESTIONNAIRE)

    assert rejects == []
    assert delivered == 1
    assert sandbox.records("questionnaire") == {"12345678": QUESTIONNAIRE}
    path = "/api/v1/questionnaire/import-questionnaire-data/"
    assert sandbox.stats()["requests"] == {f"{path} 200": 1}


def test_answers_go_to_the_documented_url(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """By default the page's 'API URL' line: /import-audience-answers/."""
    delivered, rejects = send(sandbox, tmp_path, {"endpoint": "questionnaire_answers"}, ANSWERS)

    assert rejects == []
    assert delivered == 1
    assert sandbox.records("questionnaire_answers") == {"12345678:123321": ANSWERS}
    assert sandbox.stats()["requests"] == {f"{ANSWERS_PATH} 200": 1}


def test_a_sync_may_take_the_examples_path(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """The page's example posts to /import-audience-questionnaire-data/: `path:` picks it."""
    destination = {"endpoint": "questionnaire_answers", "path": EXAMPLE_PATH}
    delivered, rejects = send(sandbox, tmp_path, destination, ANSWERS)

    assert rejects == []
    assert delivered == 1
    assert sandbox.stats()["requests"] == {f"{EXAMPLE_PATH} 200": 1}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("submitTime", "16/02/2022 08:30"),
        ("status", ""),
        ("answers", [{"subject": "x", "type": "FREETEXT", "sn": 0}]),
    ],
)
def test_a_bad_answer_is_caught_locally(
    field: str, value: Any, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    delivered, rejects = send(
        sandbox, tmp_path, {"endpoint": "questionnaire_answers"}, {**ANSWERS, field: value}
    )

    assert delivered == 0
    assert (rejects[0]["field"] or "").startswith(field)
    assert sandbox.stats()["requests"] == {}


def _url(connection: dict[str, Any], destination: dict[str, Any]) -> str:
    async def make() -> str:
        async with OmniSegmentDestination(connection) as opened:
            return opened.endpoint(destination).build_request([ANSWERS]).url

    return asyncio.run(make())


def test_the_host_and_auth_the_pages_write() -> None:
    """https://omnisegment.com (no api.), tid in the query, the key in X-OmniSegment-Api-Key."""
    connection = {"environment": "tw", "tid": TEST_TID, "api_key": "k-1"}

    async def make() -> Any:
        async with OmniSegmentDestination(connection) as opened:
            return opened.endpoint({"endpoint": "questionnaire"}).build_request([QUESTIONNAIRE])

    request = asyncio.run(make())
    assert request.url == (
        f"https://omnisegment.com/api/v1/questionnaire/import-questionnaire-data/?tid={TEST_TID}"
    )
    assert request.headers["X-OmniSegment-Api-Key"] == "k-1"
    assert b"api_key" not in request.body


def test_a_sync_may_set_the_host() -> None:
    connection = {"environment": "tw", "tid": TEST_TID, "api_key": "k-1"}
    destination = {"endpoint": "questionnaire_answers", "host": "https://api.omnisegment.com"}

    assert _url(connection, destination).startswith(f"https://api.omnisegment.com{ANSWERS_PATH}")


def test_a_base_url_is_where_everything_goes() -> None:
    """A base_url (a proxy, the sandbox) takes every route, the questionnaires included."""
    connection = {"base_url": "https://proxy.example.com", "tid": TEST_TID, "api_key": "k-1"}

    assert _url(connection, {"endpoint": "questionnaire_answers"}).startswith(
        f"https://proxy.example.com{ANSWERS_PATH}"
    )


@pytest.mark.parametrize(
    ("destination", "message"),
    [
        (
            {"endpoint": "audience", "path": "/api/v3/audiences/"},
            "the reference is sure of the route of audience",
        ),
        (
            {"endpoint": "questionnaire_answers", "path": "import-answers/"},
            "a path starting with /",
        ),
        (
            {"endpoint": "questionnaire", "host": "omnisegment.com"},
            "an https:// URL",
        ),
    ],
)
def test_overrides_are_checked(destination: dict[str, Any], message: str) -> None:
    """Overrides are refused for a fixed route, a path without a leading / and a host not on https://."""
    checker = OmniSegmentDestination({"environment": "sandbox"})
    mapped = frozenset({"svid", "title", "status", "submitTime", "member_sn"})
    issues = checker.check_sync(destination, mapped)

    assert any(message in issue.message for issue in issues), [i.message for i in issues]
