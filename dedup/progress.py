"""The progress protocol: what the pipeline tells about its progress (the CLI shows bars)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """What the pipeline tells about its progress; the CLI adapts it to rich."""

    def start(self, stage: str, total: int | None) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class NoProgress:
    """A Progress that shows nothing."""

    def start(self, stage: str, total: int | None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass
