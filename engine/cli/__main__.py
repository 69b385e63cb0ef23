"""`python -m engine.cli`: the same as the `omnisync` console script."""

from engine.cli.main import main

main()
