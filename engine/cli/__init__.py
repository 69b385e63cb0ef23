"""The `omnisync` command line: one module per command group, the group and exit codes in main.py."""

from engine.cli.main import cli, main

__all__ = ["cli", "main"]
