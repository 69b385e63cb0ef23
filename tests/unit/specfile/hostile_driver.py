"""Runs `omnisync validate` on each file given, in this one process, and prints one JSON line each.

Started by test_hostile_specs.py under an address-space limit, so a spec that made the loader
grow past it would end this process (and fail the test) instead of the machine.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import sys
import time


def validate(path: str) -> dict[str, object]:
    from engine.cli import main

    sys.argv = ["omnisync", "validate", path]
    out, err = io.StringIO(), io.StringIO()
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    code: object = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
        except SystemExit as exc:
            code = exc.code
        except BaseException as exc:
            code = f"{type(exc).__name__}: {exc}"[:300]
    return {
        "file": path,
        "exit": code,
        "stderr": err.getvalue()[:2000],
        "wall_s": round(time.perf_counter() - started_wall, 3),
        "cpu_s": round(time.process_time() - started_cpu, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


if __name__ == "__main__":
    names = sys.argv[1:]
    validate(names[0])  # warm the imports, so the first timing is the spec's own
    for name in names:
        print(json.dumps(validate(name)), flush=True)
