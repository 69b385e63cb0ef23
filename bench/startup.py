"""A fast start: what `omnisync --help` and `omnisync validate` cost before doing anything.

    python bench/startup.py             # --help, validate on a CSV-only spec and on
                                        # configs/quickstart.yaml, 7 runs each
    python bench/startup.py --runs 15
    python bench/startup.py --run-rows 1000000   # and peak RSS of a CSV-only run of that size

Each command runs as a child process; its wall time comes from the parent and its peak RSS and CPU
from os.wait4 on that child alone. The project's modules are byte-compiled first, as an installed
package's are (with PYTHONDONTWRITEBYTECODE set, a checkout would compile them on every start).
The baseline is `python -c pass` with the same interpreter.
Figures: the median of the runs, the difference to the baseline and the ratio (targets: validate
under 0.2 s and under 45 MB peak RSS). It also lists which heavy libraries the command imported.

What a user runs is an installed package (`pip install <checkout>`). A development environment
installs omnisync editable, and its finder, like the test extras' .pth files, runs at every start
of that interpreter (`python -c pass` included): the script says so when it finds one. For the
user's figure, run it with the interpreter of a plain install, from outside the checkout:

    /path/to/venv/bin/python /path/to/checkout/bench/startup.py
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from delivery import scenario

OMNISYNC = [sys.executable, "-c", "from engine.cli import main; main()"]
HEAVY = ("sqlalchemy", "boto3", "botocore", "pyarrow", "aiohttp", "jsonschema", "yaml")
CSV_SPEC = """\
version: 1
omnisegment: {base_url: "http://127.0.0.1:9", tid: OA-sandbox, api_key: "${OMNISEGMENT_API_KEY}"}
syncs:
  - name: members
    source: {csv: {path: members.csv}}
    destination: {endpoint: audience, options: {merge_key: member_sn}}
    mapping: {member_sn: id, name: name, email: {from: email, transforms: [trim, lower]}}
"""
PROBE = """\
import sys
sys.argv = ["omnisync", *sys.argv[1:]]
from engine.cli import main
try:
    main()
except SystemExit:
    pass
print("MODULES", " ".join(sorted({name.split(".")[0] for name in sys.modules})), file=sys.stderr)
"""

os.environ.setdefault("OMNISEGMENT_API_KEY", "sandbox-api-key")  # secrets never in specs


def measure(command: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} exited {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def median_of(command: list[str], runs: int) -> tuple[float, float, float]:
    samples = [measure(command) for _ in range(runs)]
    return (
        statistics.median(s[0] for s in samples),
        statistics.median(s[1] for s in samples),
        statistics.median(s[2] for s in samples),
    )


def imported(args: list[str]) -> list[str]:
    """Which of the heavy libraries the command imported."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False
    )
    line = next((ln for ln in done.stderr.splitlines() if ln.startswith("MODULES ")), "")
    modules = set(line.split()[1:])
    return [name for name in HEAVY if name in modules]


def editable_finders() -> list[str]:
    """The editable installs of omnisync this interpreter runs at start-up, if any."""
    found: list[str] = []
    for entry in sys.path:
        if os.path.isdir(entry):
            found += sorted(
                name
                for name in os.listdir(entry)
                if name.startswith("__editable__") and "omnisync" in name and name.endswith(".pth")
            )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--run-rows", type=int, default=0, help="also a CSV-only run this size")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    for package in ("engine", "connectors"):
        compileall.compile_dir(root / package, quiet=1)
    with tempfile.TemporaryDirectory(prefix="omnisync-startup-") as tmp:
        work = Path(tmp)
        spec = work / "csv_only.yaml"
        spec.write_text(CSV_SPEC)
        (work / "members.csv").write_text("id,name,email\nM1,Ann,ann@example.com\n")
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "omnisync --help": [*OMNISYNC, "--help"],
            "omnisync validate": [*OMNISYNC, "validate", str(spec)],
            "validate quickstart": [*OMNISYNC, "validate", str(root / "configs/quickstart.yaml")],
        }
        base_wall, base_cpu, base_rss = median_of(commands["python -c pass"], args.runs)
        print(f"median of {args.runs} runs each\n")
        print(
            f"{'command':<20}{'wall s':>8}{'+ over python':>15}{'x python':>10}{'CPU s':>8}"
            f"{'peak RSS MB':>13}{'+ MB':>7}  heavy imports"
        )
        for name, command in commands.items():
            if name.startswith("python"):
                wall, cpu, rss = base_wall, base_cpu, base_rss
            else:
                wall, cpu, rss = median_of(command, args.runs)
            heavy = "-" if name.startswith("python") else ", ".join(imported(command[3:])) or "none"
            print(
                f"{name:<20}{wall:>8.3f}{wall - base_wall:>15.3f}{wall / base_wall:>10.1f}"
                f"{cpu:>8.3f}{rss:>13.1f}{rss - base_rss:>7.1f}  {heavy}"
            )
        print("\ntargets: omnisync validate (both specs) under 0.2 s and under 45 MB peak RSS")
        if finders := editable_finders():
            print(
                f"note: omnisync is installed editable here ({', '.join(finders)}): every start"
                " pays its finder, which a user's install has not; for the user's figure run"
                " this script with a plain install's interpreter, from outside the checkout"
            )
        if args.run_rows:
            print(f"\nCSV-only run of {args.run_rows:,} rows against an unlimited sandbox ...")
            figures = scenario("csv-run", work, args.run_rows, [], "{rate_limit: 10000/s}")
            print(
                f"{figures.rows:,} rows: {figures.delivered:,} delivered in {figures.seconds:.1f} s,"
                f" client peak RSS {figures.rss_mb:.1f} MB"
            )


if __name__ == "__main__":
    main()
