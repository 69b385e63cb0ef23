"""The progress display, seen through a pseudo-terminal as an operator sees it: counts, a retry wait
with its countdown, and log lines that never share a line with it. Off a terminal: heartbeats."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from tests.conftest import ROOT, RunningSandbox, invoke_cli
from tests.sandbox_specs import members_spec

SPEC = members_spec(
    """\
    destination: {endpoint: audience}
    mapping: {member_sn: id}
    delivery:
      retry: {unavailable: {interval: 2, attempts: 2, backoff: 1, jitter: false}}
"""
)

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _visible(raw: str) -> list[str]:
    """The lines a terminal ends up showing: each `\\r` returns to the start, `ESC[K` erases."""
    shown = []
    for line in raw.replace("\r\n", "\n").split("\n"):
        shown.append(_ANSI.sub("", line.split("\r")[-1]))
    return shown


def _spec(tmp_path: Path) -> Path:
    (tmp_path / "members.csv").write_text("id\nM1\nM2\n", encoding="utf-8")
    spec = tmp_path / "sync.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    return spec


def _run_on_a_terminal(
    tmp_path: Path, sandbox: RunningSandbox, env: dict[str, str], columns: int = 200
) -> str:
    """`omnisync run` on a pseudo-terminal of `columns` columns, its first batch held by a retry
    wait (so the progress line is drawn) until the line says it waits; what the terminal got."""
    sandbox.configure(fail_ratio=1.0)  # every request answered 502/503/504 until told otherwise
    spec = _spec(tmp_path)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-c", "from engine.cli import main; main()", "run", str(spec)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=ROOT,
        env=env,
    )
    os.close(slave)
    raw = b""
    healed = False
    deadline = time.monotonic() + 60  # a guard against a hang, not a timing assertion
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            raw += chunk
        if not healed and b"waiting " in raw:
            sandbox.configure(fail_ratio=0.0)  # the retry after the wait succeeds
            healed = True
        if process.poll() is not None and not ready:
            break
    os.close(master)
    assert process.wait(timeout=30) == 0, raw.decode(errors="replace")
    return raw.decode("utf-8", errors="replace")


def test_a_retry_wait_is_shown_on_the_terminal_and_logs_stay_off_the_status_line(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    text = _run_on_a_terminal(tmp_path, sandbox, {**sandbox_env, "COLUMNS": "200"})
    waiting = re.search(
        r"members: waiting 0m0[1-2]s: 1 batch answered (502|503|504) \(retry 1 of 2\); "
        r"read 2/~2 \(0% done\), delivered 0, unchanged 0, filtered 0, rejected 0, 0 records/s, "
        r"[0-9.]+/10 requests/s",
        _ANSI.sub("", text),
    )
    assert waiting, text
    shown = _visible(text)
    assert any("retrying" in line for line in shown)  # the log line of the retry ...
    for line in shown:  # ... never on the same visible line as the status
        assert not ("retrying" in line and "records/s" in line), line
        assert not ("sync_finished" in line and "records/s" in line), line
    assert "members: read 2, delivered 2" in _ANSI.sub("", text)
    assert set(sandbox.records("audience")) == {"M1", "M2"}


def test_the_status_line_fits_a_100_column_terminal(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    """The line runs to ~170 characters; on 100 columns it wrapped, and every redraw (`\\r` goes
    back to the start of the wrapped row only) left a stale row. It is cut to 99 columns."""
    env = {k: v for k, v in sandbox_env.items() if k not in ("COLUMNS", "LINES")}

    text = _run_on_a_terminal(tmp_path, sandbox, env, columns=100)

    drawn = [_ANSI.sub("", part).split("\r")[0].split("\n")[0] for part in text.split("\x1b[K")[1:]]
    statuses = [d for d in drawn if d.startswith("members: ")]
    assert any(s.startswith("members: waiting") for s in statuses), text
    assert max(len(s) for s in statuses) <= 99, statuses
    assert any(s.endswith("…") for s in statuses)  # the long one was cut, visibly


def test_off_a_terminal_a_json_heartbeat_shows_the_run_is_alive(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    sandbox.configure(fail_ratio=1.0)
    spec = _spec(tmp_path)
    events = []
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from engine.cli import main; main()",
            "run",
            str(spec),
            "--heartbeat",
            "0.5",
            "--report",
            str(tmp_path / "report.json"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=sandbox_env,
        text=True,
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:
            event = json.loads(line)
            events.append(event)
            if event["event"] == "heartbeat" and event["waiting_batches"] == 1:
                sandbox.configure(fail_ratio=0.0)
        assert process.wait(timeout=60) == 0, events
    beats = [e for e in events if e["event"] == "heartbeat"]
    assert beats, events
    assert beats[0]["read"] == 2
    assert {"delivered", "filtered", "rejected", "records_per_s", "requests"} <= set(beats[0])
    run_ids = {e.get("run_id") for e in events}
    assert len(run_ids) == 1
    assert None not in run_ids
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["run_id"] in run_ids
    (sync,) = report["syncs"]
    assert sync["waiting_on_retries_s"] >= 2  # the retry policy's interval, as configured
    assert sync["retries"] >= 1


def test_no_heartbeat_when_told_so(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str]
) -> None:
    result = invoke_cli("run", str(_spec(tmp_path)), "--heartbeat", "0", env=sandbox_env)

    assert result.returncode == 0
    assert '"heartbeat"' not in result.stderr
