"""engine.lazy: the library is imported at the first attribute read, not before."""

from __future__ import annotations

import subprocess
import sys


def test_a_lazy_module_is_imported_on_first_use_only() -> None:
    probe = (
        "import sys\n"
        "from engine.lazy import lazy_module\n"
        "sa = lazy_module('sqlalchemy')\n"
        "assert 'sqlalchemy' not in sys.modules, 'imported too early'\n"
        "assert sa.text('select 1') is not None\n"
        "assert 'sqlalchemy' in sys.modules\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr
