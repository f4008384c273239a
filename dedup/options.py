"""RunOptions: how a scan runs (engine, batch sizes, spill threshold), never what it finds.

``ScanConfig`` holds what shapes results (and ``jobs``/``batch_size``, which the CLI sets
there); these are the execution sizes a test or a benchmark may want small, passed to
``scan()`` instead of module globals patched from outside. No value here changes a
result: clusters, ids and order are the same for every setting (tests hold them to that).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .config import ScanConfig
from .errors import ConfigError


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Execution settings of one scan.

    Example:
        >>> RunOptions(files_per_task=2).jobs(ScanConfig(jobs=1))
        1
    """

    #: The engine that runs the parallel stages: "local" (worker processes) or "ray".
    engine: str = "local"
    #: Settings handed to the engine (e.g. a Ray address).
    engine_options: dict[str, Any] = field(default_factory=dict)
    #: Files hashed as one task: enough to amortise the hand-over, few enough to keep every
    #: worker busy to the end.
    files_per_task: int = 256
    #: A JSON Lines file larger than this is hashed in line-aligned parts of about this size.
    split_bytes: int = 16 * 1024 * 1024
    #: Shingle hashes kept in memory up to this many (512 MB); past it they go to a
    #: temporary file that the exact check reads a set at a time.
    spill_hashes: int = 64 * 1024 * 1024
    #: Below this many groups, ranking stays in this process (a pool costs more than it saves).
    parallel_rank_groups: int = 200
    #: Groups ranked as one task.
    rank_batch: int = 64

    def __post_init__(self) -> None:
        for name in ("files_per_task", "split_bytes", "spill_hashes", "parallel_rank_groups", "rank_batch"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1")

    def jobs(self, config: ScanConfig) -> int:
        """The parallelism used: ``config.jobs``, or every core when it is 0; on this machine
        (the local engine) at most ``max_jobs()``, as more processes than that only add
        start-up time and memory. A Ray cluster's CPUs are its own to count."""
        asked = config.jobs or cores()
        return min(asked, max_jobs()) if self.engine == "local" else asked


#: Worker processes per core at most: the stages are CPU-bound, so past this more workers
#: only cost their start-up and memory.
JOBS_PER_CORE = 2


def cores() -> int:
    """This machine's cores (1 when unknown)."""
    return os.cpu_count() or 1


def max_jobs() -> int:
    """The most worker processes a local scan starts: ``JOBS_PER_CORE`` per core."""
    return JOBS_PER_CORE * cores()


def jobs_note(asked: int) -> str | None:
    """The one warning a scan gives when ``-j`` asks for more workers than it starts, or None."""
    if asked <= max_jobs():
        return None
    return f"-j {asked}: using {max_jobs()} worker processes ({JOBS_PER_CORE} per core on {cores()} cores)"
