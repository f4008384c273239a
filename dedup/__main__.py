"""``python -m dedup``: the same as the ``dedup`` command."""

from .cli import run

run()
