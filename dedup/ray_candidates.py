"""Stage 5 on Ray: LSH banding and the containment anchors as shuffles by key.

The candidate pairs of ``candidates.candidate_pairs``, found by Ray tasks instead of sorts on
the run's machine:

* Bands: a map task per block of signature rows computes every band's key
  (``candidates.band_key``) and sends each (band, key, document) row to the partition
  ``key % partitions``; a reduce task per partition sorts its rows by (band, key) and pairs
  each bucket as ``candidates.pairs_in_groups`` does (a bucket over ``MAX_BUCKET`` joined as
  a chain), so a bucket is whole in one partition and is paired as the embedded engine pairs it.
* Anchors: a map task per block of anchors sends (hash, document) to ``hash % partitions``;
  a reduce task groups by hash, drops anchors held by more than ``max_anchor_docs`` documents
  and pairs the rest; the pairs, with how many anchors gave each, go to a second shuffle by
  pair, where each pair's anchors are summed and ``min_anchors`` applied.

Data-Juicer's ``ray_bts_minhash_deduplicator`` routes band keys the same way (a band's key
modulo the number of union-find actors) but unions the bucket members in the actors with no
exact check; NeMo Curator's LSH stage shuffles buckets by bucket id and turns them into
edges. Here the pairs come back to the run's machine (they are few: the signature filter and
the exact check follow), which keeps the result the embedded engine's, pair for pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .candidates import Anchors, band_key, live_rows, pairs_in_groups, signature_filter
from .config import ScanConfig
from .signature import Signatures

I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]
Rows = tuple[NDArray[np.int32], U64, I64]  # band, key, document

#: Signature rows a banding map task takes.
BAND_BLOCK = 1 << 15


def band_rows(matrix: NDArray[np.uint32], first: int, bands: int, partitions: int) -> list[Rows]:
    """Map: every band's (band, key, document) rows of a block of signatures (documents
    ``first..``), split by ``key % partitions``; documents without shingles are left out."""
    rows = matrix.shape[1] // bands
    live = np.flatnonzero(live_rows(matrix))
    docs = live.astype(np.int64) + first
    kept = matrix[live]
    band = np.repeat(np.arange(bands, dtype=np.int32), len(live))
    keys = np.concatenate([band_key(kept, b, rows) for b in range(bands)]) if bands else np.zeros(0, np.uint64)
    who = np.tile(docs, bands)
    part = keys % np.uint64(partitions)
    return [(band[part == p], keys[part == p], who[part == p]) for p in range(partitions)]


def band_bucket_pairs(n: int, *pieces: Rows) -> I64:
    """Reduce: the pairs of every bucket of one partition, as codes ``a * n + b``, unique."""
    band = np.concatenate([p[0] for p in pieces])
    keys = np.concatenate([p[1] for p in pieces])
    docs = np.concatenate([p[2] for p in pieces])
    if len(docs) < 2:
        return np.zeros(0, np.int64)
    order = np.lexsort((docs, keys, band))
    band, keys, docs = band[order], keys[order], docs[order]
    new = np.concatenate(([True], (keys[1:] != keys[:-1]) | (band[1:] != band[:-1])))
    pairs = pairs_in_groups(docs, np.flatnonzero(new).astype(np.int64))
    return np.unique(pairs[:, 0] * n + pairs[:, 1]) if len(pairs) else np.zeros(0, np.int64)


def anchor_rows(hashes: U64, docs: I64, partitions: int) -> list[tuple[U64, I64]]:
    """Map: a block of anchors split by ``hash % partitions``."""
    part = hashes % np.uint64(partitions)
    return [(hashes[part == p], docs[part == p]) for p in range(partitions)]


def anchor_group_pairs(
    n: int, max_anchor_docs: int, partitions: int, *pieces: tuple[U64, I64]
) -> list[tuple[I64, I64]]:
    """Reduce: the pairs of each anchor of one partition held by at most ``max_anchor_docs``
    documents, as (codes, anchors shared) split by ``code % partitions`` for the second shuffle."""
    hashes = np.concatenate([p[0] for p in pieces])
    docs = np.concatenate([p[1] for p in pieces])
    order = np.lexsort((docs, hashes))
    hashes, docs = hashes[order], docs[order]
    starts = (
        np.flatnonzero(np.concatenate(([True], hashes[1:] != hashes[:-1]))) if len(hashes) else np.zeros(0, np.int64)
    )
    sizes = np.diff(np.append(starts, len(docs)))
    common = sizes > max_anchor_docs  # template text: not followed
    if common.any():
        docs = docs[~np.repeat(common, sizes)]
        sizes = sizes[~common]
        starts = np.cumsum(sizes) - sizes
    pairs = pairs_in_groups(docs, starts.astype(np.int64))
    codes, shared = np.unique(pairs[:, 0] * n + pairs[:, 1], return_counts=True)
    part = codes % partitions
    return [(codes[part == p], shared[part == p].astype(np.int64)) for p in range(partitions)]


def anchor_pair_counts(n: int, min_anchors: int, per_doc: I64, *pieces: tuple[I64, I64]) -> I64:
    """Second reduce: a partition's pairs with their anchors summed over every anchor
    partition, kept when they share ``min_anchors`` (or all of a small document's)."""
    codes = np.concatenate([p[0] for p in pieces])
    shared = np.concatenate([p[1] for p in pieces])
    if len(codes) == 0:
        return np.zeros(0, np.int64)
    code, inverse = np.unique(codes, return_inverse=True)
    total = np.bincount(inverse, weights=shared).astype(np.int64)
    a, b = code // n, code % n
    need = np.maximum(1, np.minimum(min_anchors, np.minimum(per_doc[a], per_doc[b])))
    kept: I64 = code[total >= need]
    return kept


def candidate_pairs(
    ray: Any, sigs: Signatures, anchors: Anchors, sizes: I64, config: ScanConfig, *, partitions: int
) -> I64:
    """``candidates.candidate_pairs`` with banding and anchors as Ray shuffles (module
    docstring); the signature filter runs here on the pairs that come back.

    Args:
        ray: the ``ray`` module, initialised.
        sigs, anchors, sizes, config: as for ``candidates.candidate_pairs``.
        partitions: reduce tasks per shuffle (at least 2).

    Returns:
        The same (m, 2) array: a < b, sorted, unique, filtered.
    """
    n = len(sigs)
    if n < 2:
        return np.zeros((0, 2), np.int64)
    p = max(2, partitions)  # Ray returns a one-element list as one object
    one = ray.remote(num_cpus=1, max_retries=3)
    codes: list[Any] = []

    band_map = one(band_rows).options(num_returns=p)
    band_reduce = one(band_bucket_pairs)
    blocks = [band_map.remote(sigs.matrix[at : at + BAND_BLOCK], at, config.bands, p) for at in range(0, n, BAND_BLOCK)]
    codes += [band_reduce.remote(n, *[b[i] for b in blocks]) for i in range(p)]

    anchor_map = one(anchor_rows).options(num_returns=p)
    anchor_reduce = one(anchor_group_pairs).options(num_returns=p)
    anchor_sum = one(anchor_pair_counts)
    per_doc = ray.put(np.bincount(anchors.docs, minlength=n).astype(np.int64))
    step = max(1, -(-len(anchors.hashes) // p))
    cuts = range(0, max(len(anchors.hashes), 1), step)
    mapped = [anchor_map.remote(anchors.hashes[at : at + step], anchors.docs[at : at + step], p) for at in cuts]
    grouped = [anchor_reduce.remote(n, config.max_anchor_docs, p, *[m[i] for m in mapped]) for i in range(p)]
    codes += [anchor_sum.remote(n, config.min_anchors, per_doc, *[g[i] for g in grouped]) for i in range(p)]

    found: Sequence[I64] = ray.get(codes)
    code = np.unique(np.concatenate(found))
    pairs = np.stack([code // n, code % n], axis=1).astype(np.int64)
    return signature_filter(pairs, sigs, sizes, config)
