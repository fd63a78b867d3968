"""`python -m eval`: run the benchmark (see `eval.cli`)."""

from eval.cli import main

raise SystemExit(main(prog="python -m eval"))
