"""A progress callback that damages files when a stage starts: the tests' hook for faults
between stages (files deleted, emptied, replaced by a FIFO or rewritten after the walk)."""

from __future__ import annotations

import os
from pathlib import Path

FAULTS = ("delete", "truncate", "fifo", "rewrite")


class Saboteur:
    """Damages ``victims`` once, when ``stage`` starts; ``rewrite`` is the new text."""

    def __init__(
        self, stage: str, fault: str, victims: list[Path], rewrite: str = "something else entirely, " * 40
    ) -> None:
        self.stage, self.fault, self.victims, self.rewrite = stage, fault, victims, rewrite
        self.fired = False

    def start(self, stage: str, total: int | None) -> None:
        if stage != self.stage or self.fired:
            return
        self.fired = True
        for path in self.victims:
            if self.fault == "delete":
                path.unlink()
            elif self.fault == "truncate":
                path.write_bytes(b"")
            elif self.fault == "fifo":
                path.unlink()
                os.mkfifo(path)
            elif self.fault == "rewrite":
                path.write_text(self.rewrite, encoding="utf-8")

    def advance(self, n: int = 1) -> None:
        pass
