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
        >>> RunOptions(files_per_task=2).jobs(ScanConfig(jobs=3))
        3
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

    @staticmethod
    def jobs(config: ScanConfig) -> int:
        """The parallelism asked for: ``config.jobs``, or every core when it is 0."""
        return config.jobs or os.cpu_count() or 1
