"""Stage 5: signatures and anchors -> candidate pairs.

In:  ``Signatures`` (all documents), ``Shingles`` (for anchors), the config.
Out: ``CandidatePairs``: unique (a, b) document pairs with a < b, sorted.

Two paths, because one alone misses what users care about:

* LSH banding finds pairs by *resemblance*: the signature is cut into ``bands`` bands of
  ``rows`` slots and two documents with an equal band become a pair. Bands are compared by
  sorting arrays of band keys, not through a dict index, so memory is a few arrays.
* Anchors find pairs by *containment*: a copy wrapped in blog chrome (samples 000 in 001:
  99.8% contained, Jaccard 0.53) or a truncated copy has a low Jaccard however it is banded.
  Anchors are the shingles whose hash falls in a fixed 1/2**anchor_bits slice: the same
  shingles are anchors in every document, so a contained text shares nearly all of its
  anchors with its container. Anchors held by more than ``max_anchor_docs`` documents are
  template text (navigation, footers) and are not followed.

A last cheap filter drops pairs whose signatures say they cannot reach either threshold,
before the exact check in verify.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .config import ScanConfig
from .shingle import Shingles
from .signature import EMPTY, Signatures

CandidatePairs = NDArray[np.int64]  # shape (m, 2), a < b, sorted, unique

#: Buckets bigger than this are joined as a chain (each member to the next and to the
#: first) instead of all pairs: a bucket of 10,000 copies of one wire story gives
#: 20,000 pairs, not 50 million. That keeps the copies one component; the star split in
#: cluster.py then measures its centre against every member the chain did not pair it with.
MAX_BUCKET = 100

# Slack of the signature filter: with 128 slots the Jaccard estimate's standard error is
# at most 0.044, so 0.15 below a threshold is over three standard errors.
_FILTER_SLACK = 0.15


def _pairs_in_groups(members: NDArray[np.int64], starts: NDArray[np.int64]) -> NDArray[np.int64]:
    """All pairs within each group of a grouped array (groups given by their start positions)."""
    ends = np.append(starts[1:], len(members))
    sizes = ends - starts
    big = sizes > MAX_BUCKET
    out: list[NDArray[np.int64]] = []
    if big.any():
        for s, e in zip(starts[big].tolist(), ends[big].tolist(), strict=True):
            group = np.sort(members[s:e])
            out.append(np.stack([group[:-1], group[1:]], axis=1))
            out.append(np.stack([np.full(len(group) - 2, group[0]), group[2:]], axis=1))
        starts, ends, sizes = starts[~big], ends[~big], sizes[~big]
    keep = sizes >= 2
    starts, sizes = starts[keep], sizes[keep]
    if len(starts):
        # Element i of a group of size m pairs with the m-1-i elements after it.
        within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        position = np.repeat(starts, sizes) + within
        counts = np.repeat(sizes, sizes) - 1 - within
        left = np.repeat(position, counts)
        step = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts) + 1
        right = left + step
        out.append(np.stack([members[left], members[right]], axis=1))
    if not out:
        return np.zeros((0, 2), np.int64)
    pairs = np.concatenate(out)
    return np.sort(pairs, axis=1)


def pairs_in_groups(members: NDArray[np.int64], starts: NDArray[np.int64]) -> NDArray[np.int64]:
    """All pairs within each group (a big one as a chain, ``MAX_BUCKET``), each pair sorted:
    what an engine that groups by key itself pairs its buckets with."""
    return _pairs_in_groups(members, starts)


def _grouped(keys: NDArray[np.uint64], members: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Sort members by key; return them and the start of each run of equal keys."""
    order = np.argsort(keys, kind="stable")
    keys, members = keys[order], members[order]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return members, starts.astype(np.int64)


def _unique_pairs(pairs: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    if len(pairs) == 0:
        return np.zeros((0, 2), np.int64)
    code = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.stack([code // n, code % n], axis=1)


def band_pairs(sigs: Signatures, bands: int) -> NDArray[np.int64]:
    """Pairs of documents that agree on all rows of at least one band."""
    n = len(sigs)
    rows = sigs.num_perm // bands
    live = np.flatnonzero(live_rows(sigs.matrix)).astype(np.int64)
    if len(live) < 2:
        return np.zeros((0, 2), np.int64)
    # Columns are read one at a time (no 64-bit copy of the whole matrix).
    matrix = sigs.matrix if len(live) == n else sigs.matrix[live]
    found: list[NDArray[np.int64]] = []
    for band in range(bands):
        members, starts = _grouped(band_key(matrix, band, rows), live)
        found.append(_pairs_in_groups(members, starts))
    return _unique_pairs(np.concatenate(found), n)


def band_key(matrix: NDArray[np.uint32], band: int, rows: int) -> NDArray[np.uint64]:
    """One band's key for each row of a signature matrix: equal keys, equal band (odds of a
    false equality 2**-64)."""
    with np.errstate(over="ignore"):
        key = np.full(len(matrix), np.uint64(band + 1) * np.uint64(0x9E3779B97F4A7C15), dtype=np.uint64)
        for r in range(band * rows, (band + 1) * rows):
            key = (key ^ matrix[:, r].astype(np.uint64)) * np.uint64(0xFF51AFD7ED558CCD)
            key ^= key >> np.uint64(29)
    return key


def live_rows(matrix: NDArray[np.uint32]) -> NDArray[np.bool_]:
    """Rows of documents with shingles: an empty document's slots are all EMPTY; a real one
    has four EMPTY slots with odds 2**-128."""
    live: NDArray[np.bool_] = ~(matrix[:, :4] == EMPTY).all(axis=1)
    return live


@dataclass(frozen=True, slots=True)
class Anchors:
    """The anchor shingles of documents, with the document each belongs to."""

    hashes: NDArray[np.uint64]
    docs: NDArray[np.int64]

    @staticmethod
    def join(parts: list[Anchors], counts: list[int]) -> Anchors:
        """Anchors of consecutive batches, their document numbers made run-wide.

        ``parts`` is emptied on the way: each part is dropped once copied, so the peak is
        the joined arrays and one part, not twice the anchors.
        """
        total = sum(len(p.hashes) for p in parts)
        hashes, docs = np.empty(total, np.uint64), np.empty(total, np.int64)
        pos = base = 0
        parts.reverse()
        for count in counts:
            part = parts.pop()
            hashes[pos : pos + len(part.hashes)] = part.hashes
            docs[pos : pos + len(part.docs)] = part.docs + base
            pos += len(part.hashes)
            base += count
            del part
        return Anchors(hashes, docs)


def select_anchors(shingles: Shingles, anchor_bits: int) -> Anchors:
    """The anchors of a batch (done as batches arrive, so no later pass reads every hash)."""
    # Bits 40.. of the hash decide anchors: independent of the 32 bits MinHash uses.
    mask = np.uint64((1 << anchor_bits) - 1)
    is_anchor = ((shingles.hashes >> np.uint64(40)) & mask) == 0
    docs = np.repeat(np.arange(len(shingles), dtype=np.int64), shingles.sizes())[is_anchor]
    return Anchors(shingles.hashes[is_anchor], docs)


#: Anchors are joined in this many slices by their top hash bits: a slice holds whole groups
#: (one anchor's documents), and the sorting and pairing of a slice take 1/16 of the memory.
ANCHOR_SLICES = 16


def anchor_pairs(anchors: Anchors, n: int, min_anchors: int, max_anchor_docs: int) -> NDArray[np.int64]:
    """Pairs of documents that share anchors (see the module docstring)."""
    per_doc = np.bincount(anchors.docs, minlength=n)
    slices = (anchors.hashes >> np.uint64(60)).astype(np.uint8) % ANCHOR_SLICES
    codes: list[NDArray[np.int64]] = []
    for part in range(ANCHOR_SLICES):
        sel = np.flatnonzero(slices == part)
        members, starts = _grouped(anchors.hashes[sel], anchors.docs[sel])
        ends = np.append(starts[1:], len(members))
        sizes = ends - starts
        common = sizes > max_anchor_docs  # template text: do not follow
        if common.any():
            drop = np.repeat(common, sizes)
            members = members[~drop]
            sizes = sizes[~common]
            starts = (np.cumsum(sizes) - sizes).astype(np.int64)
        pairs = _pairs_in_groups(members, starts)
        if len(pairs):
            codes.append(pairs[:, 0] * n + pairs[:, 1])
    if not codes:
        return np.zeros((0, 2), np.int64)
    code, shared = np.unique(np.concatenate(codes), return_counts=True)
    a, b = code // n, code % n
    # A small document may hold fewer anchors than min_anchors: then all of them must match.
    need = np.maximum(1, np.minimum(min_anchors, np.minimum(per_doc[a], per_doc[b])))
    ok = shared >= need
    return np.stack([a[ok], b[ok]], axis=1)


#: Pairs whose signatures ``signature_filter`` compares at a time.
FILTER_STEP = 1 << 14


def signature_filter(
    pairs: NDArray[np.int64], sigs: Signatures, sizes: NDArray[np.int64], config: ScanConfig
) -> NDArray[np.int64]:
    """Drop pairs whose estimated Jaccard and containment are both well below threshold."""
    if len(pairs) == 0:
        return pairs
    a, b = pairs[:, 0], pairs[:, 1]
    # Slots compared a slice of pairs at a time: two whole gathered copies of the matrix
    # (num_perm * 4 bytes a pair each) were the candidate stage's peak.
    same = np.empty(len(pairs), np.int64)
    for at in range(0, len(pairs), FILTER_STEP):
        sa_, sb_ = a[at : at + FILTER_STEP], b[at : at + FILTER_STEP]
        same[at : at + FILTER_STEP] = np.count_nonzero(sigs.matrix[sa_] == sigs.matrix[sb_], axis=1)
    kept: NDArray[np.int64] = pairs[filter_keeps(same, sigs.num_perm, sizes[a], sizes[b], config)]
    return kept


def filter_keeps(
    same: NDArray[np.int64], num_perm: int, size_a: NDArray[np.int64], size_b: NDArray[np.int64], config: ScanConfig
) -> NDArray[np.bool_]:
    """The signature filter's verdict on pairs whose signatures agree in ``same`` slots and
    whose sets have these sizes (an engine that gathers the rows itself asks it too)."""
    j = same / num_perm
    sa, sb = size_a.astype(np.float64), size_b.astype(np.float64)
    small = np.maximum(np.minimum(sa, sb), 1.0)
    # |A ∩ B| = J (|A| + |B|) / (1 + J); containment of the smaller side in the larger.
    c = j * (sa + sb) / ((1.0 + j) * small)
    keep: NDArray[np.bool_] = (j >= config.jaccard_threshold - _FILTER_SLACK) | (
        c >= config.containment_threshold - 2 * _FILTER_SLACK
    )
    return keep


def candidate_pairs(
    sigs: Signatures, anchors: Anchors, sizes: NDArray[np.int64], config: ScanConfig
) -> NDArray[np.int64]:
    """Every pair the exact check should look at, from both paths, filtered by signatures.

    Args:
        sigs: signatures of all documents of the run, in document order.
        anchors: their anchors (``select_anchors``).
        sizes: their numbers of distinct shingles.
        config: bands, anchor settings and thresholds.

    Returns:
        An (m, 2) array of document index pairs, a < b, sorted and unique.
    """
    n = len(sigs)
    found = [
        band_pairs(sigs, config.bands),
        anchor_pairs(anchors, n, config.min_anchors, config.max_anchor_docs),
    ]
    pairs = _unique_pairs(np.concatenate(found), max(n, 1))
    return signature_filter(pairs, sigs, sizes, config)
