"""dedup: find near-duplicate documents in scraped files, and the cleanest copy of each.

Example:
    >>> from dedup import ScanConfig, scan
    >>> result = scan(["samples"], ScanConfig(jaccard_threshold=0.8))  # doctest: +SKIP
    >>> for cluster in result.clusters:  # doctest: +SKIP
    ...     print(cluster.cleanest.doc_id, [m.doc_id for m in cluster.members[1:]])
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .config import ScanConfig
from .errors import ConfigError, DedupError, ExportError, InputError, SkipReason
from .pipeline import Progress, scan
from .records import Cluster, DocInfo, Document, Match, Member, Pick, ScanResult, Skipped, SourceFile, Summary
from .shingle import hash_shingle32, shingle_strings
from .signature import Signatures

try:
    __version__ = version("dedup")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

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
    "__version__",
    "hash_shingle32",
    "scan",
    "shingle_strings",
]
