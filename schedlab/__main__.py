"""``python -m schedlab``."""

from schedlab.cli import run

run()
