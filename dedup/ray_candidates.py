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
  and pairs the rest; the pairs, with how many anchors gave each, go to a last shuffle by
  pair code, where the band pairs of the same code partition meet them.
* The last reduce (``finish_pairs``) sums each pair's anchors and applies ``min_anchors``,
  joins the band pairs, and runs the signature filter (``candidates.filter_keeps``) with the
  signature rows of the blocks its pairs touch, fetched by the task itself. The filtered
  pairs stay in the object store, partitioned by pair code (``kept.KeptPairs``), where the
  verify tasks read them; only each partition's count comes back to the run's machine.

The input is a list of ``Block``: on a scan, the batches the hashing tasks left in the object
store (``kept.KeptBatches``), so the run's process never holds the signatures or anchors;
whole-run arrays are cut into blocks and put there first. Data-Juicer's
``ray_bts_minhash_deduplicator`` routes band keys the same way (a band's key modulo the number
of union-find actors) but unions the bucket members in the actors with no exact check; NeMo
Curator's LSH stage shuffles buckets by bucket id and turns them into edges. On one machine a
task reads the blocks from shared memory; on a cluster, each last-reduce task pulls the blocks
its pairs touch (a join by document block, not a shuffle of pairs to the blocks).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .candidates import FILTER_STEP, Anchors, band_key, filter_keeps, live_rows, pairs_in_groups
from .config import ScanConfig
from .extras import require
from .kept import KeptBatches, KeptPairs
from .ray_components import count_done
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


def anchor_rows(anchors: Anchors, first: int, count: int, partitions: int) -> list[Any]:
    """Map: a block's anchors (document numbers from 0 in the block, documents ``first..``)
    split by ``hash % partitions``, and last the block's anchors per document (for ``min_anchors``)."""
    hashes, docs = anchors.hashes, anchors.docs.astype(np.int64) + first
    part = hashes % np.uint64(partitions)
    per_doc = np.bincount(anchors.docs, minlength=count).astype(np.int32)
    return [*((hashes[part == p], docs[part == p]) for p in range(partitions)), per_doc]


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


def band_bucket_codes(n: int, partitions: int, *pieces: Rows) -> list[I64]:
    """Reduce: ``band_bucket_pairs`` split by ``code % partitions`` for the last shuffle."""
    codes = band_bucket_pairs(n, *pieces)
    part = codes % partitions
    return [codes[part == p] for p in range(partitions)]


@dataclass(frozen=True, slots=True)
class Block:
    """Documents ``first..first+count-1``: their signature rows and anchors (numbered from 0
    in the block), each an array or a Ray ObjectRef of one; the hashing tasks leave theirs in
    the object store and hand over refs (``ray_hashing``)."""

    first: int
    count: int
    matrix: Any  # (count, num_perm) uint32
    anchors: Any  # candidates.Anchors


def blocks_of(sigs: Signatures, anchors: Anchors, rows: int = BAND_BLOCK) -> list[Block]:
    """Whole-run signatures and anchors (run-wide document numbers) cut into blocks of ``rows``."""
    order = np.argsort(anchors.docs, kind="stable")
    hashes, docs = anchors.hashes[order], anchors.docs[order]
    out = []
    for at in range(0, len(sigs), rows):
        count = min(rows, len(sigs) - at)
        lo, hi = np.searchsorted(docs, [at, at + count])
        out.append(Block(at, count, sigs.matrix[at : at + count], Anchors(hashes[lo:hi], docs[lo:hi] - at)))
    return out


def blocks_of_kept(kept: KeptBatches) -> list[Block]:
    """The batches the hashing tasks kept, as blocks (their refs, or arrays held here)."""
    return [
        Block(first, count, k.matrix, k.anchors)
        for first, count, k in zip(kept.firsts(), kept.counts, kept.items, strict=True)
        if count
    ]


class BlockRows:
    """Signature rows and anchor counts of any documents, from the blocks that hold them,
    each block fetched once, when a document of it is first asked for."""

    def __init__(self, ray: Any, firsts: I64, refs: Sequence[tuple[Any, Any]]) -> None:
        self.ray, self.firsts, self.refs = ray, firsts, refs
        self.got: dict[int, tuple[NDArray[np.uint32], NDArray[np.int32]]] = {}

    def _fetch(self, needed: I64) -> None:
        new = [k for k in needed.tolist() if k not in self.got]
        if new:
            values = self.ray.get([r for k in new for r in self.refs[k]])
            for j, k in enumerate(new):
                self.got[k] = (values[2 * j], values[2 * j + 1])

    def take(self, docs: I64, which: int) -> NDArray[Any]:
        """Of each of ``docs``: its signature row (``which`` 0) or its anchor count (1)."""
        blk = np.searchsorted(self.firsts, docs, side="right") - 1
        self._fetch(np.unique(blk))
        if len(docs) == 0:
            return np.zeros(0, np.int32)
        sample = self.got[int(blk[0])][which]
        out = np.empty((len(docs), *sample.shape[1:]), sample.dtype)
        order = np.argsort(blk, kind="stable")
        cuts = np.flatnonzero(np.diff(blk[order])) + 1
        for seg in np.split(order, cuts) if len(order) else []:
            k = int(blk[seg[0]])
            out[seg] = self.got[k][which][docs[seg] - self.firsts[k]]
        return out


def finish_pairs(
    n: int, config: ScanConfig, sizes: I64, firsts: I64, refs: list[tuple[Any, Any]], bands: int, *pieces: Any
) -> tuple[I64, int]:
    """Last reduce, one partition of pair codes: the band pairs (``pieces[:bands]``) and the
    anchor pairs with their anchors summed over every anchor partition, kept when they share
    ``min_anchors`` (or all of a small document's); then the signature filter, with the rows
    of the blocks its pairs touch. ``refs`` holds each block's (signature rows, anchors per
    document), nested so that Ray hands them over unfetched: the task fetches what it needs.
    Returns the partition's sorted codes and their count (a second return: the run's
    process takes the count alone)."""
    rows = BlockRows(require("ray", "ray", "--engine ray"), firsts, refs)
    found = [np.asarray(p, np.int64) for p in pieces[:bands]]
    anchored = pieces[bands:]
    codes = np.concatenate([p[0] for p in anchored]) if anchored else np.zeros(0, np.int64)
    if len(codes):
        shared = np.concatenate([p[1] for p in anchored])
        code, inverse = np.unique(codes, return_inverse=True)
        total = np.bincount(inverse, weights=shared).astype(np.int64)
        a, b = code // n, code % n
        per_a, per_b = rows.take(a, 1).astype(np.int64), rows.take(b, 1).astype(np.int64)
        need = np.maximum(1, np.minimum(config.min_anchors, np.minimum(per_a, per_b)))
        found.append(code[total >= need])
    code = np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)
    if len(code) == 0:
        return code, 0
    pairs = np.stack([code // n, code % n], axis=1)
    keep = np.zeros(len(pairs), bool)
    for at in range(0, len(pairs), FILTER_STEP):
        part = pairs[at : at + FILTER_STEP]
        same = np.count_nonzero(rows.take(part[:, 0], 0) == rows.take(part[:, 1], 0), axis=1)
        keep[at : at + FILTER_STEP] = filter_keeps(same, config.num_perm, sizes[part[:, 0]], sizes[part[:, 1]], config)
    kept: I64 = code[keep]
    return kept, len(kept)


def candidate_pairs(
    ray: Any, sigs: Signatures, anchors: Anchors, sizes: I64, config: ScanConfig, *, partitions: int,
    progress: Callable[[int], None] | None = None,
) -> I64:  # fmt: skip
    """``candidates.candidate_pairs`` with banding, anchors and the signature filter as Ray
    shuffles (module docstring), from whole-run arrays held here (cut into blocks).

    Args:
        ray: the ``ray`` module, initialised.
        sigs, anchors, sizes, config: as for ``candidates.candidate_pairs``.
        partitions: reduce tasks per shuffle (at least 2).
        progress: called with 1 as each task of the stage finishes (see ``stage_tasks``).

    Returns:
        The same (m, 2) array: a < b, sorted, unique, filtered.
    """
    return pairs_of_blocks(ray, blocks_of(sigs, anchors), sizes, config, partitions=partitions, progress=progress)


def stage_tasks(blocks: int, partitions: int) -> int:
    """The tasks of the stage: a band map and an anchor map a block, three reduces a partition."""
    return 2 * blocks + 3 * max(2, partitions)


def pairs_of_blocks(
    ray: Any, blocks: Sequence[Block], sizes: I64, config: ScanConfig, *, partitions: int,
    progress: Callable[[int], None] | None = None,
) -> I64:  # fmt: skip
    """The candidate pairs of documents given as blocks, fetched here as one (m, 2) array."""
    return pair_parts(ray, blocks, sizes, config, partitions=partitions, progress=progress).gather()


def pair_parts(
    ray: Any, blocks: Sequence[Block], sizes: I64, config: ScanConfig, *, partitions: int,
    progress: Callable[[int], None] | None = None,
) -> KeptPairs:  # fmt: skip
    """The candidate pairs of documents given as blocks (arrays, or refs the hashing tasks
    left in the object store), left in the object store as the last reduce tasks made them,
    partitioned by pair code: only each partition's count comes back here."""
    n = sum(b.count for b in blocks)
    p = max(2, partitions)  # Ray returns a one-element list as one object
    if n < 2:
        return KeptPairs(max(n, 1), (), (), ray.get)
    one = ray.remote(num_cpus=1, max_retries=3)
    put = [(b, _ref(ray, b.matrix), _ref(ray, b.anchors)) for b in blocks]  # each array once in the store

    band_map = one(band_rows).options(num_returns=p)
    band_reduce = one(band_bucket_codes).options(num_returns=p)
    mapped_bands = [band_map.remote(m, b.first, config.bands, p) for b, m, _ in put]
    banded = [band_reduce.remote(n, p, *[m[i] for m in mapped_bands]) for i in range(p)]

    anchor_map = one(anchor_rows).options(num_returns=p + 1)
    anchor_reduce = one(anchor_group_pairs).options(num_returns=p)
    mapped = [anchor_map.remote(a, b.first, b.count, p) for b, _, a in put]
    grouped = [anchor_reduce.remote(n, config.max_anchor_docs, p, *[m[i] for m in mapped]) for i in range(p)]

    firsts = np.array([b.first for b in blocks], np.int64)
    refs = [(m, per_doc[p]) for (_, m, _), per_doc in zip(put, mapped, strict=True)]
    sizes_ref = ray.put(np.asarray(sizes, np.int64))
    finish = one(finish_pairs).options(num_returns=2)
    cfg = ray.put(config)
    codes = [
        finish.remote(n, cfg, sizes_ref, firsts, refs, p, *[c[i] for c in banded], *[g[i] for g in grouped])
        for i in range(p)
    ]
    if progress is not None:
        heads = [m[0] for m in mapped_bands] + [m[0] for m in mapped] + [c[0] for c in banded]
        count_done(ray, [*heads, *[g[0] for g in grouped], *[c[1] for c in codes]], progress)
    counts: list[int] = ray.get([c[1] for c in codes])  # p small numbers: the pairs stay where they are
    return KeptPairs(n, tuple(c[0] for c in codes), tuple(counts), ray.get)


def _ref(ray: Any, value: Any) -> Any:
    """``value`` in the object store: a ref as it is, an array put there."""
    return value if isinstance(value, ray.ObjectRef) else ray.put(value)
