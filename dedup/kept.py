"""Arrays an engine keeps where its hashing tasks made them, and the run's handles to them.

A Ray scan's hashing tasks leave each batch's signature rows and anchors in Ray's object
store and send back only the batch's small records; the run's process holds a ``Kept``
(two handles) per batch, and the candidate stage on the engine's workers reads the arrays
where they lie. So the run's process never holds the run's signature matrix or anchor
table. An engine that can do this offers ``KeepsArrays``; the local engine does not, and
its chunks carry their arrays as before.

The candidate pairs go the same way (``KeptPairs``): the candidate stage's last tasks leave
them partitioned by pair, the verify tasks read them there, and the run's process holds
handles and counts.

A leaf module: it imports no engine, and ``ray`` never.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from .candidates import Anchors
from .signature import Signatures

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Kept:
    """One batch's signature rows and anchors (documents numbered from 0 in the batch):
    engine handles that ``get`` resolves, or, with ``get`` None, the arrays themselves (a
    batch the cache served, or one hashed in this process)."""

    matrix: Any
    anchors: Any
    get: Callable[[Any], Any] | None = None

    def rows(self) -> NDArray[np.uint32]:
        """The batch's signature rows, fetched here (the cache stores a fresh batch's)."""
        rows: NDArray[np.uint32] = self.matrix if self.get is None else self.get(self.matrix)
        return rows

    def anchor_table(self) -> Anchors:
        """The batch's anchors, fetched here."""
        anchors: Anchors = self.anchors if self.get is None else self.get(self.anchors)
        return anchors


@dataclass(frozen=True, slots=True)
class KeptBatches:
    """The run's signatures and anchors as the batches hashing gave, in document order."""

    counts: tuple[int, ...]  # documents of each batch
    items: tuple[Kept, ...]
    num_perm: int
    seed: int

    def __len__(self) -> int:
        return sum(self.counts)

    def firsts(self) -> list[int]:
        """Each batch's first document, run-wide."""
        firsts, at = [], 0
        for count in self.counts:
            firsts.append(at)
            at += count
        return firsts

    def gather(self) -> tuple[Signatures, Anchors]:
        """Every batch fetched into whole-run arrays (tests; an engine that cannot band them)."""
        matrices = [k.rows() for k in self.items]
        matrix = np.concatenate(matrices) if matrices else np.zeros((0, self.num_perm), np.uint32)
        anchors = Anchors.join([k.anchor_table() for k in self.items], list(self.counts))
        return Signatures(matrix, self.num_perm, self.seed), anchors


@dataclass(frozen=True, slots=True)
class KeptPairs:
    """Candidate pairs an engine's tasks left partitioned where they ran: part ``k`` holds
    the sorted codes ``a * n + b`` (a < b) with ``code % len(parts) == k``. The run's
    process holds the handles and each part's count (for the bars and the report)."""

    n: int  # documents of the run: a code's base
    parts: tuple[Any, ...]  # engine handles of int64 code arrays
    counts: tuple[int, ...]
    get: Callable[[Any], Any]

    def __len__(self) -> int:
        return sum(self.counts)

    def gather(self) -> NDArray[np.int64]:
        """Every pair fetched here, as the (m, 2) array ``candidates.candidate_pairs`` gives
        (a < b, sorted): for an engine that cannot read the parts where they lie, and tests."""
        codes = [np.asarray(self.get(p), np.int64) for p, c in zip(self.parts, self.counts, strict=True) if c]
        code = np.sort(np.concatenate(codes)) if codes else np.zeros(0, np.int64)
        return np.stack([code // self.n, code % self.n], axis=1).astype(np.int64)


def as_array(pairs: NDArray[np.int64] | KeptPairs) -> NDArray[np.int64]:
    """Candidate pairs as an array here, fetched if an engine kept them."""
    return pairs.gather() if isinstance(pairs, KeptPairs) else pairs


@runtime_checkable
class KeepsArrays(Protocol):
    """An engine whose tasks can leave part of their result where they ran (the Ray engine)."""

    def map_keeping(
        self, fn: Callable[[T], tuple[Any, ...]], batches: Iterable[T], keep: int
    ) -> Iterator[tuple[Any, tuple[Any, ...]]]:
        """``fn`` over ``batches`` in order, like ``Engine.map``; ``fn`` returns a tuple whose
        first item comes back and whose ``keep`` others stay with the engine, as handles."""
        ...

    def fetch(self, handle: Any) -> Any:
        """The value behind a handle ``map_keeping`` gave."""
        ...
