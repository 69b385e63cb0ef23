"""Parameter types every command that reads a spec shares."""

from __future__ import annotations

from pathlib import Path

import click

SPEC_FILE = click.Path(path_type=Path, dir_okay=False)
