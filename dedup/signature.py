"""Stage 4: shingle sets -> MinHash signatures, compatible with datasketch 2.x ``affine32``.

In:  ``Shingles`` (sorted 64-bit shingle hashes per document).
Out: ``Signatures``: a ``(n_docs, num_perm)`` uint32 matrix.

Compatibility contract (tested in tests/test_signature.py against the installed datasketch):
row i equals ``datasketch.MinHash(num_perm, seed, hashfunc=dedup.shingle.hash_shingle32,
scheme="affine32")`` updated with document i's shingle strings. That is datasketch 2.0's
default scheme: the 32-bit input hash is pre-mixed with the MurmurHash3 32-bit finaliser,
then each permutation is ``a * h + b mod 2**32`` with odd ``a``; ``a`` and ``b`` come from
``numpy.random.RandomState(seed)`` exactly as datasketch draws them. A row therefore loads
into datasketch as ``MinHash(num_perm, seed, hashvalues=row, scheme="affine32")`` or
``LeanMinHash(seed=seed, hashvalues=row, scheme="affine32")`` and can be inserted into its
``MinHashLSH``. (The ``legacy`` scheme of datasketch < 2.0 is not produced.)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from . import kernel
from .shingle import Shingles

U32 = np.uint32
SCHEME = "affine32"
EMPTY = np.iinfo(np.uint32).max  # the value of a permutation slot no shingle reached


@dataclass(frozen=True, slots=True)
class Signatures:
    """MinHash signatures of a run, one row per document, in document order."""

    matrix: NDArray[np.uint32]
    num_perm: int
    seed: int
    scheme: str = SCHEME

    def __len__(self) -> int:
        return int(self.matrix.shape[0])

    def jaccard(self, i: int, j: int) -> float:
        """Jaccard estimate of documents i and j: the share of equal slots."""
        return float(np.count_nonzero(self.matrix[i] == self.matrix[j])) / self.num_perm


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[NDArray[np.uint32], NDArray[np.uint32]]:
    """The (a, b) parameters datasketch 2.x draws for ``affine32`` with this seed."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=U32) * U32(2) + U32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=U32)
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b


def fmix32(h: NDArray[np.uint32]) -> NDArray[np.uint32]:
    """MurmurHash3's 32-bit finaliser, as datasketch applies it before the permutations."""
    h = h ^ (h >> U32(16))
    h = h * U32(0x85EBCA6B)
    h = h ^ (h >> U32(13))
    h = h * U32(0xC2B2AE35)
    return h ^ (h >> U32(16))


def signatures(shingles: Shingles, num_perm: int = 128, seed: int = 1) -> Signatures:
    """MinHash every document of a batch.

    Args:
        shingles: the batch's shingle sets.
        num_perm: number of permutations (signature length).
        seed: the permutation seed (datasketch's default is 1).

    Returns:
        Signatures of the batch; an empty document's row is all ``EMPTY``.
    """
    a, b = permutations(num_perm, seed)

    if kernel.available():
        return Signatures(kernel.minhash(shingles, a, b), num_perm, seed)
    n = len(shingles)
    out = np.full((num_perm, n), EMPTY, dtype=U32)
    h = fmix32((shingles.hashes & np.uint64(0xFFFFFFFF)).astype(U32))
    filled = np.flatnonzero(np.diff(shingles.offsets) > 0)
    if len(filled):
        # Empty documents own no elements, so the starts of the others delimit them exactly.
        starts = shingles.offsets[filled]
        tmp = np.empty_like(h)
        # One permutation at a time over a contiguous array: ~10x faster than a 2-D block.
        for p in range(num_perm):
            np.multiply(h, a[p], out=tmp)
            np.add(tmp, b[p], out=tmp)
            out[p, filled] = np.minimum.reduceat(tmp, starts)
    return Signatures(np.ascontiguousarray(out.T), num_perm, seed)


def concat(parts: list[Signatures]) -> Signatures:
    """Join the signatures of consecutive batches."""
    if not parts:
        raise ValueError("no signatures to join")
    first = parts[0]
    return Signatures(np.concatenate([p.matrix for p in parts]), first.num_perm, first.seed, first.scheme)
