"""`omnisync run --html FILE`: one self-contained page, opened in a real browser (Chromium from the
system packages, driven by Selenium and chromedriver) that finds the charts and figures and loads
nothing from anywhere. Skipped where no Chromium is installed, except in CI (CI=true), where its
absence is a failure: .ci/run installs it."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningSandbox, invoke_cli
from tests.sandbox_specs import members, members_spec, write_rows

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

SYNC = """\
    destination: {endpoint: audience, options: {merge_key: member_sn}}
    delivery: {rate_limit: 40/s, batch_size: 5, retry: {throttled: {attempts: 20}}}
    max_reject_ratio: 1
    reject_file: out/rejects.jsonl
    mapping: {member_sn: id, name: name, email: email}
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (CHROMIUM and DRIVER):
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium and chromedriver are missing: .ci/run installs them")
        pytest.skip(
            "no Chromium and chromedriver installed (apt-get install chromium chromium-driver)"
        )
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_the_run_page_shows_its_charts_in_a_browser(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str], browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    sandbox.configure(rate_limit=10)  # the client paces at 40/s: the sandbox answers 429
    write_rows(
        tmp_path / "members.csv",
        [*members(150), ("B1", "broken", "oops-b1"), ("B2", "broken", "oops-b2")],
    )
    spec = tmp_path / "sync.yaml"
    spec.write_text(members_spec(SYNC), encoding="utf-8")
    page, report = tmp_path / "run.html", tmp_path / "report.json"

    result = invoke_cli(
        "run", str(spec), "--html", str(page), "--report", str(report), env=sandbox_env
    )

    assert result.returncode == 0, result.stderr
    sync = json.loads(report.read_text("utf-8"))["syncs"][0]
    assert sync["throttled_429"] > 0  # the page has 429s to mark
    assert sum(second[1] for second in sync["per_second"]) == sync["requests"]
    assert sum(second[2] for second in sync["per_second"]) == sync["throttled_429"]
    html = page.read_text("utf-8")
    assert "<script" not in html
    assert "src=" not in html
    assert "oops-b" not in html  # rejected values stay out of the page

    browser.get(page.as_uri())
    assert browser.title.startswith("omnisync run ")
    records = browser.find_element(By.ID, "records")
    assert records.find_element(By.TAG_NAME, "figcaption").text == "Records per sync"
    delivered = records.find_element(By.CSS_SELECTOR, "rect.bar.delivered")
    assert delivered.find_element(By.TAG_NAME, "title").get_attribute("textContent") == (
        "delivered: 150"
    )
    assert records.find_elements(By.CSS_SELECTOR, "rect.bar.rejected")
    rejects = browser.find_element(By.ID, "rejects").text
    assert "members email:" in rejects
    assert rejects.count("members") == 1  # both bad emails, one reason
    requests = browser.find_element(By.CSS_SELECTOR, "figure.requests[data-sync='members']")
    assert "requests per second (limit 40/s)" in requests.text
    assert requests.find_element(By.CSS_SELECTOR, "polyline.rate").size["width"] > 0
    assert requests.find_element(By.CSS_SELECTOR, "line.limit")
    assert requests.find_elements(By.CSS_SELECTOR, "circle.throttled")
    assert requests.find_elements(By.CSS_SELECTOR, "rect.retry-wait")
    # nothing was fetched to show it: no resource but the page itself
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0


HISTORY_SYNC = """\
    destination: {endpoint: audience, options: {merge_key: member_sn}}
    max_reject_ratio: 0.2
    mapping: {member_sn: id, name: name, email: email}
"""


def test_the_history_page_shows_runs_over_time_in_a_browser(
    tmp_path: Path, sandbox: RunningSandbox, sandbox_env: dict[str, str], browser: Any
) -> None:
    """Three runs: ten new members; one changed, one gone and one rejected; then too many rejects
    (exit 3). The page draws each run's records by action, exit codes and durations."""
    from selenium.webdriver.common.by import By

    spec = tmp_path / "sync.yaml"
    spec.write_text(members_spec(HISTORY_SYNC), encoding="utf-8")
    rows = members(10)
    write_rows(tmp_path / "members.csv", rows)
    assert invoke_cli("run", str(spec), env=sandbox_env).returncode == 0
    rows = [(i, "renamed" if i == "M000001" else n, e) for i, n, e in rows if i != "M000002"]
    write_rows(tmp_path / "members.csv", [*rows, ("B1", "broken", "oops-b1")])
    assert invoke_cli("run", str(spec), env=sandbox_env).returncode == 0
    write_rows(tmp_path / "members.csv", [*rows[:3], ("B1", "broken", "oops-b1")])
    assert invoke_cli("run", str(spec), env=sandbox_env).returncode == 3
    page = tmp_path / "out" / "history.html"

    shown = invoke_cli("history", str(spec), "--html", str(page), env=sandbox_env)

    assert shown.returncode == 0, shown.stderr
    assert "history of sync.yaml" in shown.stdout  # the text listing still printed
    html = page.read_text("utf-8")
    for absent in ("<script", "src=", "href=", "oops-b1"):
        assert absent not in html
    browser.get(page.as_uri())
    assert browser.title == "omnisync history of sync.yaml"
    figure = browser.find_element(By.CSS_SELECTOR, "figure.history[data-sync='members']")
    assert figure.find_element(By.TAG_NAME, "figcaption").text == "members: records per run"

    def bars(kind: str) -> list[str]:
        return [
            bar.find_element(By.TAG_NAME, "title").get_attribute("textContent")
            for bar in figure.find_elements(By.CSS_SELECTOR, f"rect.bar.{kind}")
        ]

    assert bars("new") == ["new: 10"]  # oldest run first
    assert bars("changed") == ["changed: 1"]
    assert bars("unchanged") == ["unchanged: 8", "unchanged: 3"]
    assert bars("rejected") == ["rejected: 1", "rejected: 1"]
    assert bars("left_the_source") == ["left the source: 1", "left the source: 6"]
    assert "left the source" in figure.find_element(By.CLASS_NAME, "legend").text
    exits = browser.find_element(By.ID, "exit-codes")
    assert len(exits.find_elements(By.CSS_SELECTOR, "circle.run.exit-0")) == 2
    assert len(exits.find_elements(By.CSS_SELECTOR, "circle.run.exit-3")) == 1
    durations = browser.find_element(By.ID, "durations")
    assert len(durations.find_elements(By.CSS_SELECTOR, "circle.duration")) == 3
    assert durations.find_element(By.CSS_SELECTOR, "polyline.duration").size["width"] > 0
    table = browser.find_element(By.ID, "runs").text
    assert "read 10: changed 1, unchanged 8, rejected 1, left the source 1" in table
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
