"""The records that cross stage boundaries, and nothing else.

They are frozen and slotted: a stage cannot change what an earlier stage decided, and a
million of them stay small. Text lives only in ``Document``; everything after shingling
holds ids, counts and arrays (see ``shingle.Shingles``, ``signature.Signatures``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .errors import SkipReason

DocKind = Literal["text", "html", "markdown", "jsonl"]
MatchRule = Literal["jaccard", "containment"]


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file found by the walk; no bytes held yet."""

    path: str  # where to open it (a str: pathlib objects for 100,000 files cost seconds)
    rel: str  # POSIX path relative to the root it was found under: the stable id and sort key
    size: int
    mtime_ns: int = 0  # modification time seen by the walk (the signature cache compares it)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file or record left out, with the reason a user can act on."""

    rel: str
    reason: SkipReason
    detail: str  # one line, no traceback


@dataclass(frozen=True, slots=True)
class Locator:
    """Where a document's text can be read again (the cleanest-copy stage re-reads members)."""

    path: str  # as SourceFile.path
    offset: int = 0  # byte offset of a JSON Lines record, 0 for whole files
    length: int = -1  # byte length of the record line, -1 for whole files


@dataclass(frozen=True, slots=True)
class Document:
    """One document with its text: a file, or one record of a JSON Lines/JSON file."""

    doc_id: str  # relative path for files; the record id (or "rel:line") for records
    rel: str  # the source file's relative path
    text: str  # visible text, lines kept (HTML already reduced to text)
    encoding: str  # the encoding the bytes were decoded with
    kind: DocKind
    size: int  # bytes of source this document accounts for
    locator: Locator
    record: int | None = None  # 1-based line (JSONL) or index (JSON array) of a record


@dataclass(frozen=True, slots=True)
class DocInfo:
    """A document without its text: what later stages, the report and exports need."""

    index: int  # position in the run's sorted document order
    doc_id: str
    rel: str
    kind: DocKind
    encoding: str
    size: int
    words: int
    shingles: int
    locator: Locator
    record: int | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """A verified near-duplicate pair (a < b, by document index), with why it was accepted."""

    a: int
    b: int
    jaccard: float
    containment: float  # share of the smaller shingle set found in the larger
    rule: MatchRule


@dataclass(frozen=True, slots=True)
class Pick:
    """One member's standing in its cluster: lower penalty is cleaner."""

    index: int
    penalty: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Member:
    """A cluster member as reported: similarity is measured against the cleanest copy."""

    doc_id: str
    rel: str
    words: int
    size: int
    cleanest: bool
    jaccard: float  # exact shingle Jaccard with the cleanest copy (1.0 for itself)
    containment: float  # share of the cleanest copy's shingles found in this member
    penalty: float
    reasons: tuple[str, ...]
    record: int | None = None


@dataclass(frozen=True, slots=True)
class Cluster:
    """A group of copies of one document; members[0] is the cleanest."""

    cluster_id: int
    members: tuple[Member, ...]

    @property
    def cleanest(self) -> Member:
        return self.members[0]


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts for the report header and the export's ``summary``."""

    files: int  # files read (not skipped)
    documents: int
    skipped: int
    clusters: int
    duplicates: int  # cluster members that are not the cleanest copy
    bytes_saved: int  # bytes of those duplicates
    candidates: int  # candidate pairs from LSH and the containment path
    matches: int  # verified pairs


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Everything a scan found: the one object the CLI, exports, eval and users share."""

    roots: tuple[str, ...]
    params: dict[str, object]
    summary: Summary
    clusters: tuple[Cluster, ...]
    skipped: tuple[Skipped, ...]
    docs: tuple[DocInfo, ...] = field(repr=False, default=())
    matches: tuple[Match, ...] = field(repr=False, default=())
    timings: dict[str, float] = field(repr=False, default_factory=dict)  # seconds per stage
    warnings: tuple[str, ...] = ()  # problems of the run itself that did not stop it (cache)
