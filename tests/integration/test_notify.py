"""The failure notification, received by a local HTTP server as a chat tool would receive it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import TEST_API_KEY, RunningSandbox, invoke_cli
from tests.sandbox_specs import members_spec

SPEC = members_spec(
    """\
    destination: {endpoint: audience}
    reject_file: out/rejects.jsonl
    mapping: {member_sn: id, sex: sex}
"""
)


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[tuple[str, list[tuple[str, dict[str, str], bytes]]]]:
    received: list[tuple[str, dict[str, str], bytes]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        token = "T0KEN-of-the-webhook-8f2e"
        yield f"http://127.0.0.1:{server.server_address[1]}/services/{token}", received
    finally:
        server.shutdown()
        server.server_close()


def _spec(tmp_path: Path, rows: list[str]) -> Path:
    (tmp_path / "members.csv").write_text("id,sex\n" + "\n".join(rows) + "\n", encoding="utf-8")
    spec = tmp_path / "sync.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    return spec


def test_a_failed_run_posts_a_slack_compatible_message(
    tmp_path: Path,
    sandbox: RunningSandbox,
    sandbox_env: dict[str, str],
    hook: tuple[str, list[tuple[str, dict[str, str], bytes]]],
) -> None:
    url, received = hook
    spec = _spec(tmp_path, ["M1,male", "M2,unknown"])
    env = {**sandbox_env, "OMNISYNC_NOTIFY_WEBHOOK": url}

    result = invoke_cli(
        "run", str(spec), "--report", str(tmp_path / "r.json"), env=env, cwd=tmp_path
    )

    assert result.returncode == 3
    ((path, headers, body),) = received
    assert path == "/services/T0KEN-of-the-webhook-8f2e"
    assert headers["Content-Type"] == "application/json"
    message = json.loads(body)
    assert set(message) == {"text"}
    run_id = json.loads((tmp_path / "r.json").read_text("utf-8"))["run_id"]
    assert message["text"].splitlines() == [
        f":rotating_light: omnisync run {run_id} failed (exit 3)",
        "error: members: 1 of 2 rows rejected (50.00%), more than max_reject_ratio 0; the rows "
        "that were not rejected went on as usual; fix the rows listed with their reason in "
        f"{tmp_path / 'out' / 'rejects.jsonl'}, or raise `max_reject_ratio` if this many rejects "
        "is acceptable",
        f"• members ({spec}): read 2, delivered 1, filtered 0, rejected 1, exit 3, "
        f"rejects in {tmp_path / 'out' / 'rejects.jsonl'}",
    ]
    for text in (result.stdout, result.stderr, body.decode()):
        assert TEST_API_KEY not in text
    assert "T0KEN-of-the-webhook" not in result.stdout + result.stderr


def test_a_clean_run_sends_nothing(
    tmp_path: Path,
    sandbox: RunningSandbox,
    sandbox_env: dict[str, str],
    hook: tuple[str, list[tuple[str, dict[str, str], bytes]]],
) -> None:
    url, received = hook
    result = invoke_cli(
        "run", str(_spec(tmp_path, ["M1,male"])), "--notify-webhook", url, env=sandbox_env
    )

    assert result.returncode == 0, result.stderr
    assert received == []


def test_a_webhook_that_does_not_answer_is_a_warning_not_a_new_failure(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    spec = _spec(tmp_path, ["M1,male", "M2,unknown"])
    dead = "http://127.0.0.1:9/hooks/secret-path-0c1d"

    result = invoke_cli("run", str(spec), "--notify-webhook", dead, env=sandbox_env, cwd=tmp_path)

    assert result.returncode == 3  # the run's own exit
    assert "notification_not_sent" in result.stderr
    assert "secret-path-0c1d" not in result.stderr


@pytest.mark.parametrize(
    ("ci", "link"),
    [
        (
            {
                "GITHUB_SERVER_URL": "https://github.com",
                "GITHUB_REPOSITORY": "shop/specs",
                "GITHUB_RUN_ID": "4242",
            },
            "https://github.com/shop/specs/actions/runs/4242",
        ),
        (
            {"CI_JOB_URL": "https://gitlab.example.com/shop/specs/-/jobs/77"},
            "https://gitlab.example.com/shop/specs/-/jobs/77",
        ),
    ],
    ids=["github", "gitlab"],
)
def test_the_notification_and_the_summary_link_to_the_ci_run(
    tmp_path: Path,
    sandbox: RunningSandbox,
    sandbox_env: dict[str, str],
    hook: tuple[str, list[tuple[str, dict[str, str], bytes]]],
    ci: dict[str, str],
    link: str,
) -> None:
    url, received = hook
    spec = _spec(tmp_path, ["M1,male", "M2,unknown"])
    summary = tmp_path / "summary.md"

    result = invoke_cli(
        "run",
        str(spec),
        "--notify-webhook",
        url,
        "--summary",
        str(summary),
        env={**sandbox_env, **ci},
    )

    assert result.returncode == 3, result.stderr
    ((_path, _headers, body),) = received
    assert f"CI run (log and reject files): {link}" in json.loads(body)["text"]
    assert f"[CI run: log and artifacts]({link})" in summary.read_text(encoding="utf-8")
