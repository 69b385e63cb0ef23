"""A misbehaving API: each run finishes or stops cleanly within its bounds, no record is lost,
the counts add up, and the API key (in any encoding) is nowhere in what the run printed or wrote.

Faults come from the sandbox: 502/503/504 and connection resets, acknowledgements lost after the
records were stored, HTML error pages, truncated JSON, `200` with `SUCCESS: false`, a server that
stops answering. Short by default; `pytest -m long` runs the same faults on more rows.
"""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from tests.conftest import TEST_API_KEY, RunningSandbox, run_cli
from tests.integration.test_delivery import adds_up
from tests.sandbox_specs import members, members_spec, write_rows

SYNC = """\
    destination: {{endpoint: audience, options: {{merge_key: member_sn}}}}
    reject_file: out/rejects.jsonl
    delivery:
      batch_size: {batch}
      rate_limit: 1000/s
      concurrency: 4
      timeout: {timeout}
      retry:
        unavailable: {{interval: 0.01, attempts: 8}}
        transient: {{interval: 0.01, attempts: 8}}
    mapping:
      member_sn: id
      name: name
      email: email
"""

FAULTS = {
    "unavailable_and_resets": {"fail_ratio": 0.10, "reset_ratio": 0.02},
    "lost_acknowledgements": {"lost_ack_ratio": 0.02},
    "html_error_pages": {"html_ratio": 0.05},
    "truncated_json": {"truncated_ratio": 0.05},
    "success_false": {"false_ratio": 0.05},
    "everything_at_once": {
        "fail_ratio": 0.05,
        "reset_ratio": 0.02,
        "lost_ack_ratio": 0.02,
        "html_ratio": 0.02,
        "truncated_ratio": 0.02,
        "false_ratio": 0.02,
    },
}


def canary_forms(key: str) -> list[str]:
    """The key as written and as it would travel: base64 (basic auth), URL-encoded, JSON."""
    raw = key.encode()
    return [
        key,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        quote(key, safe=""),
        quote_plus(key),
        json.dumps(key)[1:-1],
    ]


def leaks(texts: list[str], key: str) -> list[str]:
    return [form for form in canary_forms(key) for text in texts if form in text]


def files_text(root: Path) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in root.rglob("*") if p.is_file()
    )


def _run(
    tmp_path: Path,
    sandbox: RunningSandbox,
    env: dict[str, str],
    faults: dict[str, object],
    rows: int,
    batch: int = 10,
    timeout: float = 5,
) -> tuple[int, dict[str, object], str, str]:
    write_rows(tmp_path / "members.csv", members(rows))
    spec = tmp_path / "sync.yaml"
    sync = SYNC.format(batch=batch, timeout=timeout)
    spec.write_text(members_spec(sync, top="max_reject_ratio: 1\n"), encoding="utf-8")
    sandbox.configure(seed=7, **faults)
    report = tmp_path / "out" / "report.json"
    result = run_cli(
        "--log-level", "debug", "run", str(spec), "--report", str(report), "--grace", "5", env=env
    )
    sync: dict[str, object] = json.loads(report.read_text())["syncs"][0]
    return result.returncode, sync, result.stdout, result.stderr


def _rejected_keys(tmp_path: Path) -> set[str]:
    path = tmp_path / "out" / "rejects.jsonl"
    if not path.exists():
        return set()
    return {
        str(json.loads(line)["record"]["member_sn"])
        for line in path.read_text(encoding="utf-8").splitlines()
    }


def _check_no_loss(tmp_path: Path, sandbox: RunningSandbox, sync: dict[str, object]) -> None:
    with (tmp_path / "members.csv").open(encoding="utf-8") as handle:
        keys = {row["id"] for row in csv.DictReader(handle)}
    stored = set(sandbox.records("audience"))
    rejected = _rejected_keys(tmp_path)
    assert adds_up(sync), sync
    assert stored <= keys  # nothing invented
    assert keys == stored | rejected, f"lost: {sorted(keys - stored - rejected)[:10]}"
    assert int(sync["rejected"]) == len(rejected)  # type: ignore[call-overload]


def _fault_run(
    tmp_path: Path, sandbox: RunningSandbox, env: dict[str, str], name: str, rows: int
) -> None:
    code, sync, out, err = _run(tmp_path, sandbox, env, FAULTS[name], rows)

    print(f"{name}: exit {code}, {sync}")
    assert code in (0, 1, 3), err[-2000:]
    assert "Traceback" not in err
    assert "internal error" not in err
    _check_no_loss(tmp_path, sandbox, sync)
    if name in ("unavailable_and_resets", "lost_acknowledgements", "html_error_pages"):
        assert code == 0, err[-2000:]
        assert int(sync["retries"]) > 0  # type: ignore[call-overload]
    assert not leaks([out, err, files_text(tmp_path)], TEST_API_KEY)


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_each_fault_finishes_cleanly_without_loss_or_leak(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str], name: str
) -> None:
    _fault_run(tmp_path, sandbox, sandbox_env, name, rows=1500)


@pytest.mark.long
@pytest.mark.parametrize("name", sorted(FAULTS))
def test_each_fault_finishes_cleanly_without_loss_or_leak_long(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str], name: str
) -> None:
    _fault_run(tmp_path, sandbox, sandbox_env, name, rows=20_000)


def test_a_server_that_stops_answering_ends_the_run_within_its_bounds(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """After 5 answered requests the server goes silent: each request times out, is retried
    within the policy, and the run ends with exit 1 and every row accounted for."""
    code, sync, out, err = _run(
        tmp_path, sandbox, sandbox_env, {"hang_after": 5}, rows=200, batch=20, timeout=0.5
    )

    assert code == 1, err[-2000:]
    assert "timed out" in err
    assert adds_up(sync)
    assert int(sync["delivered"]) == len(sandbox.records("audience"))  # type: ignore[call-overload]
    assert int(sync["failed"]) + int(sync["unsent"]) > 0  # type: ignore[call-overload]
    assert not leaks([out, err, files_text(tmp_path)], TEST_API_KEY)


def test_a_refused_canary_key_leaks_nowhere_at_debug_level(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """The 403 path: the wrong key is in the request, and in no message about it."""
    canary = "canary-Key/+=_0d3f8a6e-91b2-4c55-a7e1"
    env = {**sandbox_env, "OMNISEGMENT_API_KEY": canary}

    code, sync, out, err = _run(tmp_path, sandbox, env, {}, rows=50)

    assert code == 1
    assert adds_up(sync)
    assert not leaks([out, err, files_text(tmp_path)], canary)


def test_a_canary_key_in_a_spec_error_is_not_echoed(tmp_path: Path) -> None:
    """A spec error near the key (a URL holding it) names the problem, not the key."""
    canary = "canary-Key-0d3f8a6e-91b2-4c55"
    spec = tmp_path / "sync.yaml"
    spec.write_text(
        "version: 1\n"
        "omnisegment: {base_url: 'https://api.example.com/?k=${OMNISEGMENT_API_KEY}', "
        "tid: OA-1, api_key: '${OMNISEGMENT_API_KEY}', environment: nowhere}\n"
        "syncs: []\n",
        encoding="utf-8",
    )

    result = run_cli(
        "--log-level",
        "debug",
        "validate",
        str(spec),
        env={"OMNISEGMENT_API_KEY": canary, "PATH": "/usr/bin:/bin"},
    )

    assert result.returncode == 2
    assert not leaks([result.stdout, result.stderr], canary)
