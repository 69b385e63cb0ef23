"""Parameter types every command that reads a spec shares."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine import logging as omnilog

SPEC_FILE = click.Path(path_type=Path, dir_okay=False)


if TYPE_CHECKING:  # generic in click's type hints (8.2+), not at run time before 8.2
    _FloatParam = click.ParamType[float, Any]
else:
    _FloatParam = click.ParamType


class Seconds(_FloatParam):
    """A finite number of seconds from 0 to an hour: `nan` or `inf` would disable a bound."""

    name = "seconds"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not (math.isfinite(seconds) and 0 <= seconds <= 3600):
            self.fail(f"{value!r} must be a number of seconds from 0 to 3600", param, ctx)
        return seconds


SECONDS = Seconds()


def reveal_pii_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--reveal-pii: personal data in clear in what the command prints or writes (and in logs)."""

    def remember(_ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        omnilog.reveal_pii(value)
        return value

    return click.option("--reveal-pii", is_flag=True, help=help_text, callback=remember)
