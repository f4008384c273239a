"""dedup: find near-duplicate documents in scraped files, and the cleanest copy of each.

Example:
    >>> from dedup import ScanConfig, scan
    >>> result = scan(["samples"], ScanConfig(jaccard_threshold=0.8))  # doctest: +SKIP
    >>> for cluster in result.clusters:  # doctest: +SKIP
    ...     print(cluster.cleanest.doc_id, [m.doc_id for m in cluster.members[1:]])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import ScanConfig
    from .errors import ConfigError, DedupError, ExportError, InputError, SkipReason, WorkerError
    from .pipeline import Progress, scan
    from .records import Cluster, DocInfo, Document, Match, Member, Pick, ScanResult, Skipped, SourceFile, Summary
    from .shingle import hash_shingle32, shingle_strings
    from .signature import Signatures

#: The module each public name comes from. They are imported on first use, so that the
#: ``dedup`` program (``dedup.entry``) has its signal handling in place before numpy and
#: the pipeline load: importing the package itself loads nothing heavy.
_HOMES = {
    "config": ("ScanConfig",),
    "errors": ("ConfigError", "DedupError", "ExportError", "InputError", "SkipReason", "WorkerError"),
    "pipeline": ("Progress", "scan"),
    "records": ("Cluster", "DocInfo", "Document", "Match", "Member", "Pick", "ScanResult", "Skipped", "SourceFile", "Summary"),
    "shingle": ("hash_shingle32", "shingle_strings"),
    "signature": ("Signatures",),
}  # fmt: skip
_HOME = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})

# The one place the version is written: pyproject.toml reads it from here (setuptools
# `attr`), so neither an installed copy nor a source tree asks importlib.metadata at start-up.
__version__ = "0.1.0"

__all__ = [
    "Cluster",
    "ConfigError",
    "DedupError",
    "DocInfo",
    "Document",
    "ExportError",
    "InputError",
    "Match",
    "Member",
    "Pick",
    "Progress",
    "ScanConfig",
    "ScanResult",
    "Signatures",
    "SkipReason",
    "Skipped",
    "SourceFile",
    "Summary",
    "WorkerError",
    "__version__",
    "hash_shingle32",
    "scan",
    "shingle_strings",
]
