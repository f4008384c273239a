"""``python -m dedup``: the same as the ``dedup`` command."""

from .entry import run

run()
