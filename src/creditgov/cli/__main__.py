"""`python -m creditgov.cli` runs the command line."""

from creditgov.cli.main import run

run()
