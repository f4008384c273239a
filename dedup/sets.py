"""Shingle sets and hashing chunks: the arrays that cross from hashing to the later stages.

``Shingles`` is a batch's sets in CSR layout, with the slicing and joining written once;
``ShingleSets`` is what the stages after hashing read (``Shingles`` in memory, or
``spill.SpilledShingles`` on disk); ``Chunk`` is what hashing some consecutive files gave.
A leaf module: it imports only records (and, for types, candidates).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from numpy.typing import NDArray

from .records import DocBatch, Skipped

if TYPE_CHECKING:
    from .candidates import Anchors
    from .kept import Kept


class ShingleSets(Protocol):
    """The run's shingle sets as the stages after hashing read them: in memory
    (``Shingles``) or in files (``spill.SpilledShingles``)."""

    @property
    def offsets(self) -> NDArray[np.int64]:
        """Document i's set has ``offsets[i+1] - offsets[i]`` hashes."""
        ...

    @property
    def words(self) -> NDArray[np.int64]:
        """Tokens per document."""
        ...

    @property
    def line_hashes(self) -> NDArray[np.uint64]:
        """One hash per distinct short line of each document."""
        ...

    @property
    def line_docs(self) -> NDArray[np.int64]:
        """The document of each line hash (sorted)."""
        ...

    def __len__(self) -> int: ...

    def get(self, i: int) -> NDArray[np.uint64]:
        """Document i's sorted, unique shingle hashes."""
        ...

    def sizes(self) -> NDArray[np.int64]:
        """Number of distinct shingles per document."""
        ...

    def hashes_of(self, lo: int, hi: int) -> NDArray[np.uint64]:
        """The sets of documents lo..hi-1, one after another in one array."""
        ...


_EMPTY_U64: NDArray[np.uint64] = np.zeros(0, np.uint64)
_EMPTY_I64: NDArray[np.int64] = np.zeros(0, np.int64)


@dataclass(frozen=True, slots=True)
class Shingles:
    """Hashed shingle sets of a batch, in CSR layout (see shingle.py).

    ``hashes[offsets[i]:offsets[i+1]]`` is document i's set: sorted, unique uint64.
    ``words[i]`` counts its tokens. ``line_hashes``/``line_docs`` hold one entry per
    distinct short line of each document (for the corpus-wide boilerplate count), sorted
    by document. The slicing and joining of sets is written here once.
    """

    offsets: NDArray[np.int64]
    hashes: NDArray[np.uint64]
    words: NDArray[np.int64]
    line_hashes: NDArray[np.uint64]
    line_docs: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def get(self, i: int) -> NDArray[np.uint64]:
        """Document i's sorted, unique shingle hashes."""
        return self.hashes[self.offsets[i] : self.offsets[i + 1]]

    def sizes(self) -> NDArray[np.int64]:
        """Number of distinct shingles per document."""
        return np.diff(self.offsets)

    def hashes_of(self, lo: int, hi: int) -> NDArray[np.uint64]:
        """The sets of documents lo..hi-1, one after another (a view)."""
        return self.hashes[self.offsets[lo] : self.offsets[hi]]

    def slice(self, lo: int, hi: int) -> Shingles:
        """Documents lo..hi-1 as sets of their own (views where possible)."""
        a, b = int(self.offsets[lo]), int(self.offsets[hi])
        la, lb = np.searchsorted(self.line_docs, [lo, hi])
        return Shingles(
            self.offsets[lo : hi + 1] - a,
            self.hashes[a:b],
            self.words[lo:hi],
            self.line_hashes[la:lb],
            self.line_docs[la:lb] - lo,
        )

    def without_hashes(self) -> Shingles:
        """The same documents with ``hashes`` left out (empty): what crosses a pipe when
        the hashes were written to a file."""
        return Shingles(self.offsets, _EMPTY_U64, self.words, self.line_hashes, self.line_docs)

    @staticmethod
    def empty() -> Shingles:
        """No documents."""
        return Shingles(np.zeros(1, np.int64), _EMPTY_U64, _EMPTY_I64, _EMPTY_U64, _EMPTY_I64)

    @staticmethod
    def concat(parts: Sequence[Shingles]) -> Shingles:
        """The documents of consecutive parts as one Shingles (a lone part as it is)."""
        if not parts:
            return Shingles.empty()
        if len(parts) == 1:
            return parts[0]
        offsets, line_docs = Shingles.run_wide(parts)
        return Shingles(
            offsets,
            np.concatenate([p.hashes for p in parts]),
            np.concatenate([p.words for p in parts]),
            np.concatenate([p.line_hashes for p in parts]),
            line_docs,
        )

    @staticmethod
    def run_wide(parts: Sequence[Shingles]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The offsets and line documents of consecutive parts, numbered across all of them."""
        offsets = [np.zeros(1, np.int64)]
        line_docs = []
        base = doc_base = 0
        for p in parts:
            offsets.append(p.offsets[1:] + base)
            base += int(p.offsets[-1])
            line_docs.append(p.line_docs + doc_base)
            doc_base += len(p)
        return np.concatenate(offsets), (np.concatenate(line_docs) if line_docs else _EMPTY_I64)


@dataclass(frozen=True, slots=True)
class Chunk:
    """What hashing some consecutive files gave: documents (no text), skips and arrays."""

    docs: DocBatch
    skipped: tuple[Skipped, ...]
    shingles: Shingles
    matrix: NDArray[np.uint32]
    counts: tuple[int, ...]  # documents of each file, in file order
    # From a worker that shares the run's files: shingles.hashes is empty, the hashes are
    # in this (file, byte offset), and the anchors were selected there (see hashing.py).
    hashes_at: tuple[str, int] | None = None
    anchors: Anchors | None = None
    # From an engine that keeps arrays where its task ran (``kept.KeepsArrays``): ``matrix``
    # has no rows and ``anchors`` is None; these are the handles to them.
    kept: Kept | None = None
