"""The records that cross stage boundaries, and nothing else.

They are frozen and slotted: a stage cannot change what an earlier stage decided, and a
million of them stay small. ``SourceFile`` is a named tuple instead, as immutable: the walk
makes one per file, and a frozen dataclass took three times as long to build (0.2 s of a
rescan of 100,000 files). Text lives only in ``Document``; everything after shingling
holds ids, counts and arrays (see ``shingle.Shingles``, ``signature.Signatures``).
"""

from __future__ import annotations

import itertools
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeVar, overload

from .errors import SkipReason

DocKind = Literal["text", "html", "markdown", "jsonl"]
MatchRule = Literal["jaccard", "containment"]
#: How a member joined its cluster's cleanest copy: by Jaccard, by containment with the
#: cleanest inside the member (a wrapped copy) or the member inside the cleanest (a cut
#: one), or through other members ("chain", ``--cluster components`` only).
MemberRule = Literal["", "jaccard", "contains-cleanest", "inside-cleanest", "chain"]
#: What to do with a member: keep (the cleanest), drop, or keep a superset (its own text).
Decision = Literal["keep", "drop", "superset"]


class SourceFile(NamedTuple):
    """A file found by the walk; no bytes held yet."""

    path: str  # where to open it (a str: pathlib objects for 100,000 files cost seconds)
    rel: str  # POSIX path relative to the root it was found under: the stable id and sort key
    size: int
    mtime_ns: int = 0  # modification time seen by the walk (the signature cache compares it)
    # The rest of the walk's stat that the signature cache compares, as git's index does:
    # a file swapped in by rename (new inode) or edited with its mtime put back (new ctime).
    ctime_ns: int = 0
    ino: int = 0
    dev: int = 0


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file or record left out, with the reason a user can act on."""

    rel: str
    reason: SkipReason
    detail: str  # one line, no traceback

    def __reduce__(self) -> tuple[type[Skipped], tuple[object, ...]]:
        return (Skipped, (self.rel, self.reason, self.detail))  # fields as a tuple: fast to pickle


@dataclass(frozen=True, slots=True)
class Locator:
    """Where a document's text can be read again (the cleanest-copy stage re-reads members)."""

    path: str  # as SourceFile.path
    offset: int = 0  # byte offset of a JSON Lines record, 0 for whole files
    length: int = -1  # byte length of the record line, -1 for whole files

    def __reduce__(self) -> tuple[type[Locator], tuple[object, ...]]:
        return (Locator, (self.path, self.offset, self.length))  # fields as a tuple: fast to pickle


def document_id(rel: str, record: int | None, record_id: str | None) -> str:
    """A document's id as its file gives it: the relative path for a whole file (a lone JSON
    object too), ``rel:record id`` for a record with an id, ``rel:number`` without one.

    Qualified by the file, a record's id can never be a file's path (the path of a file
    named ``a.jsonl:x`` aside: the pipeline makes such ids unique)."""
    if record is None:
        return rel
    return f"{rel}:{record if record_id is None else record_id}"


def text_digest(text: str) -> int:
    """A digest of a document's text (its UTF-8 length and CRC-32), taken when it is hashed:
    the ranking stage re-reads members and compares, so a file changed since is never ranked
    or dropped. It catches accidents (an edit, a truncation, a replaced file), not forgeries;
    a CRC costs a third of a cryptographic hash (docs/benchmarks.md)."""
    data = text.encode("utf-8", "surrogatepass")
    return (len(data) & 0x7FFFFFFF) << 32 | zlib.crc32(data)


@dataclass(frozen=True, slots=True)
class Document:
    """One document with its text: a file, or one record of a JSON Lines/JSON file."""

    doc_id: str  # see document_id (the pipeline may suffix it to keep ids unique)
    rel: str  # the source file's relative path
    text: str  # visible text, lines kept (HTML already reduced to text)
    encoding: str  # the encoding the bytes were decoded with
    kind: DocKind
    size: int  # bytes of source this document accounts for
    locator: Locator
    record: int | None = None  # 1-based line (JSONL) or index (JSON array) of a record
    record_id: str | None = None  # the record's own --id-field value, as written; None without one


_Row = TypeVar("_Row")


class _Rows(Sequence[_Row]):
    """Records kept by column, read as a sequence: ``_row(i)`` makes one on demand."""

    __slots__ = ()

    def _row(self, i: int) -> _Row:
        raise NotImplementedError

    @overload
    def __getitem__(self, i: int) -> _Row: ...

    @overload
    def __getitem__(self, i: slice) -> list[_Row]: ...

    def __getitem__(self, i: int | slice) -> _Row | list[_Row]:
        n = len(self)
        if isinstance(i, slice):
            return [self._row(j) for j in range(*i.indices(n))]
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("document index out of range")
        return self._row(i)

    def __iter__(self) -> Iterator[_Row]:
        return map(self._row, range(len(self)))


@dataclass(frozen=True, slots=True)
class DocBatch(_Rows[Document]):
    """Documents without their text, by column: a chunk's documents as hashing hands them on.

    Workers send a few hundred documents back per task. As objects, unpickling them cost
    the run's process about 5 µs a document, on the cores the workers need (a sixth of a
    two-worker hashing stage); as columns it unpickles a few tuples. ``batch[i]`` makes
    the ``Document`` (with empty text) on demand.
    """

    doc_ids: tuple[str, ...] = ()
    rels: tuple[str, ...] = ()
    encodings: tuple[str, ...] = ()
    kinds: tuple[DocKind, ...] = ()
    sizes: tuple[int, ...] = ()
    paths: tuple[str, ...] = ()  # Locator.path
    offsets: tuple[int, ...] = ()  # Locator.offset
    lengths: tuple[int, ...] = ()  # Locator.length
    records: tuple[int | None, ...] = ()
    record_ids: tuple[str | None, ...] = ()
    digests: tuple[int, ...] = ()  # text_digest of each document's text

    @classmethod
    def of(cls, docs: Iterable[Document]) -> DocBatch:
        """The documents' records, with the digest of each text (their last use of it)."""
        rows = [
            (d.doc_id, d.rel, d.encoding, d.kind, d.size, d.locator.path, d.locator.offset, d.locator.length, d.record,
             d.record_id, text_digest(d.text))
            for d in docs
        ]  # fmt: skip
        return cls(*map(tuple, zip(*rows, strict=True))) if rows else cls()

    @classmethod
    def concat(cls, batches: Sequence[DocBatch]) -> DocBatch:
        if len(batches) == 1:
            return batches[0]
        return cls(
            *(tuple(itertools.chain.from_iterable(cols)) for cols in zip(*map(DocBatch.columns, batches), strict=True))
        )

    def columns(self) -> tuple[tuple[Any, ...], ...]:
        """The fields in order, as tuples."""
        return (self.doc_ids, self.rels, self.encodings, self.kinds, self.sizes, self.paths, self.offsets,
                self.lengths, self.records, self.record_ids, self.digests)  # fmt: skip

    def select(self, keep: Sequence[bool]) -> DocBatch:
        """The documents whose ``keep`` is true."""
        return DocBatch(*(tuple(itertools.compress(column, keep)) for column in self.columns()))

    def __len__(self) -> int:
        return len(self.doc_ids)

    def _row(self, i: int) -> Document:
        locator = Locator(self.paths[i], self.offsets[i], self.lengths[i])
        return Document(self.doc_ids[i], self.rels[i], "", self.encodings[i], self.kinds[i], self.sizes[i], locator,
                        self.records[i], self.record_ids[i])  # fmt: skip


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
    record_id: str | None = None  # as Document.record_id
    digest: int = 0  # text_digest of the text as hashed


_NUMBER_COLUMNS = ("size", "words", "shingles", "offset", "length", "record", "digest")
_NUMBERS = len(_NUMBER_COLUMNS)


class DocTable(_Rows[DocInfo]):
    """The run's documents, stored by column; ``table[i]`` is a DocInfo made on demand.

    A million DocInfo objects (with their Locators and ints) take about 400 MB and, made
    between the hashing stage's short-lived objects, fragment the heap; these columns take
    about 130 MB: a string per document id, shared strings, and arrays of numbers.
    """

    __slots__ = ("_doc_ids", "_encodings", "_kinds", "_numbers", "_paths", "_pending", "_record_ids", "_rels")

    def __init__(self) -> None:
        self._pending: Callable[[], DocTable] | None = None
        self._doc_ids: list[str] = []
        self._rels: list[str] = []
        self._kinds: list[DocKind] = []
        self._encodings: list[str] = []
        self._paths: list[str] = []
        self._record_ids: list[str | None] = []
        # size, words, shingles, offset, length, record (-1 for None), digest, per document
        self._numbers = array("q")

    @classmethod
    def deferred(cls, make: Callable[[], DocTable]) -> DocTable:
        """A table filled by ``make()`` when first used (a stored scan result's table: a
        rescan that only reports and exports never needs it)."""
        table = cls()
        table._pending = make
        return table

    @property
    def deferred_pending(self) -> bool:
        """Whether a deferred table has not been filled yet (it is filled on first use)."""
        return self._pending is not None

    def _ready(self) -> None:
        if self._pending is not None:
            made, self._pending = self._pending(), None
            self._doc_ids, self._rels, self._kinds = made._doc_ids, made._rels, made._kinds
            self._encodings, self._paths, self._numbers = made._encodings, made._paths, made._numbers
            self._record_ids = made._record_ids

    @classmethod
    def of(cls, docs: Iterable[DocInfo]) -> DocTable:
        table = cls()
        for d in docs:
            loc = d.locator
            table.append(
                d.doc_id, d.rel, d.kind, d.encoding, d.size, d.words, d.shingles, loc, d.record, d.record_id, d.digest
            )
        return table

    def append(
        self,
        doc_id: str,
        rel: str,
        kind: DocKind,
        encoding: str,
        size: int,
        words: int,
        shingles: int,
        locator: Locator,
        record: int | None,
        record_id: str | None = None,
        digest: int = 0,
    ) -> None:
        self._ready()
        self._doc_ids.append(doc_id)
        self._rels.append(rel)
        self._kinds.append(kind)
        self._encodings.append(encoding)
        self._paths.append(locator.path)
        self._record_ids.append(record_id)
        record_number = -1 if record is None else record
        self._numbers.extend((size, words, shingles, locator.offset, locator.length, record_number, digest))

    def extend(self, batch: DocBatch, words: Iterable[int], shingles: Iterable[int]) -> None:
        """Append a batch's documents, with their word and shingle counts, column by column."""
        self._ready()
        self._doc_ids.extend(batch.doc_ids)
        self._rels.extend(batch.rels)
        self._kinds.extend(batch.kinds)
        self._encodings.extend(batch.encodings)
        self._paths.extend(batch.paths)
        self._record_ids.extend(batch.record_ids)
        records = (-1 if r is None else r for r in batch.records)
        columns = (batch.sizes, words, shingles, batch.offsets, batch.lengths, records, batch.digests)
        self._numbers.extend(itertools.chain.from_iterable(zip(*columns, strict=True)))

    def columns(self) -> dict[str, list[Any]]:
        """Every field but ``index``, as lists (for serialising)."""
        self._ready()
        n = self._numbers
        return {
            "doc_id": self._doc_ids,
            "rel": self._rels,
            "kind": self._kinds,
            "encoding": self._encodings,
            "path": self._paths,
            "record_id": self._record_ids,
            **{name: n[k::_NUMBERS].tolist() for k, name in enumerate(_NUMBER_COLUMNS)},
        }

    @classmethod
    def from_columns(cls, cols: dict[str, list[Any]]) -> DocTable:
        """The inverse of ``columns``."""
        table = cls()
        table._doc_ids, table._rels, table._kinds = list(cols["doc_id"]), list(cols["rel"]), list(cols["kind"])
        table._encodings, table._paths = list(cols["encoding"]), list(cols["path"])
        table._record_ids = list(cols["record_id"])
        numbers = [cols[name] for name in _NUMBER_COLUMNS]
        if len({len(table._doc_ids), *map(len, numbers), len(table._paths), len(table._record_ids)}) > 1:
            raise ValueError("document columns of different lengths")
        flat = array("q", bytes(8 * _NUMBERS * len(table._doc_ids)))
        for k, column in enumerate(numbers):
            flat[k::_NUMBERS] = array("q", column)
        table._numbers = flat
        return table

    def __len__(self) -> int:
        self._ready()
        return len(self._doc_ids)

    def _row(self, i: int) -> DocInfo:  # after len(), which makes a deferred table ready
        size, words, shingles, offset, length, record, digest = self._numbers[_NUMBERS * i : _NUMBERS * (i + 1)]
        return DocInfo(
            i,
            self._doc_ids[i],
            self._rels[i],
            self._kinds[i],
            self._encodings[i],
            size,
            words,
            shingles,
            Locator(self._paths[i], offset, length),
            None if record < 0 else record,
            self._record_ids[i],
            digest,
        )

    def __eq__(self, other: object) -> bool:
        self._ready()
        if isinstance(other, DocTable):
            other._ready()
            return (
                self._doc_ids == other._doc_ids
                and self._rels == other._rels
                and self._kinds == other._kinds
                and self._encodings == other._encodings
                and self._paths == other._paths
                and self._record_ids == other._record_ids
                and self._numbers == other._numbers
            )
        if isinstance(other, Sequence):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DocTable({len(self)} documents)"


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

    def __reduce__(self) -> tuple[type[Pick], tuple[object, ...]]:
        return (Pick, (self.index, self.penalty, self.reasons))  # fields as a tuple: fast to pickle


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
    record_id: str | None = None  # the record's own id (DocInfo.record_id); None for files and id-less records
    # Evidence (see evidence.py): why it joined, and what dropping it would lose.
    in_cleanest: float = 1.0  # share of this member's shingles found in the cleanest copy
    rule: MemberRule = ""  # the rule that joined it to the cleanest ("" for the cleanest itself)
    own_words: int = 0  # words outside the cleanest copy
    boilerplate_words: int = 0  # of those, boilerplate or held by another document
    decision: Decision = "drop"  # "keep" for the cleanest; a "superset" is not dropped
    chosen_by: str = ""  # the --prefer rule that chose this kept copy over the ranking's (prefer.py)
    # Its file is a symbolic link, or it is standard input's text: removing it frees no bytes.
    no_file: bool = False

    @property
    def dropped(self) -> bool:
        """On the drop list: not the cleanest copy and not a superset of it."""
        return not self.cleanest and self.decision != "superset"

    @property
    def saved(self) -> int:
        """The bytes dropping it frees: its size, or 0 for a link (the target stays) or
        standard input (nothing on disk)."""
        return self.size if self.dropped and not self.no_file else 0


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
    docs: Sequence[DocInfo] = field(repr=False, default=())  # a DocTable from scan()
    matches: tuple[Match, ...] = field(repr=False, default=())
    timings: dict[str, float] = field(repr=False, default_factory=dict)  # seconds per stage
    warnings: tuple[str, ...] = ()  # problems of the run itself that did not stop it (cache)
