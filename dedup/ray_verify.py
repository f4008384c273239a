"""Stage 6 on Ray: the exact measure of candidate pairs in Ray tasks, joined by document.

The shingle sets of the documents the candidates name go into Ray's object store once, in
blocks of consecutive documents; a task takes a slice of the pairs with just the blocks its
pairs touch, measures each pair exactly (``verify.overlap``) and returns the pairs that pass
a rule (``verify.judge``) or may pass one on the texts (``verify.needs_texts``), with their
overlap. The run's machine then judges those on the texts and applies the template test
(``evidence.distinct_pages``: it re-reads texts, which stay where the files are) to those
pairs alone, in pair order, so the matches are ``verify.verify``'s, float for float.

In a scan on a Ray this machine started (``verify_parts``), the candidate pairs are not
brought here at all: the candidate stage left them in the object store partitioned by pair
code (``kept.KeptPairs``), a task per partition reads its pairs there and each set from the
spill file the hashing worker wrote (``Places``: 20 bytes a document of the run), and only
the pairs that pass come back, to be judged on the texts here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import evidence
from .config import ScanConfig
from .kept import KeptPairs
from .records import Match
from .sets import ShingleSets
from .spill import SpilledShingles
from .verify import Layouts, judge, judge_texts, needs_texts, overlap

I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]


@dataclass(frozen=True, slots=True)
class Block:
    """The shingle sets of some documents, for a task: each set either held here (``file``
    -1, ``at`` its first hash in ``hashes``) or left in a spill file of this machine (``file``
    an index into ``paths``, ``at`` its byte offset), which the task reads itself."""

    docs: I64  # sorted
    sizes: I64
    file: NDArray[np.int32]
    at: I64
    hashes: U64
    paths: tuple[str, ...]

    def reader(self) -> BlockReader:
        """A reader of this block's sets by document index."""
        return BlockReader(self)


class BlockReader:
    """A block's sets by document index; its spill files opened once, on first use."""

    def __init__(self, block: Block) -> None:
        self.block = block
        self.where = {d: k for k, d in enumerate(block.docs.tolist())}
        self.fds: dict[int, int] = {}

    def __call__(self, i: int) -> U64:
        b, k = self.block, self.where[i]
        size, f, at = int(b.sizes[k]), int(b.file[k]), int(b.at[k])
        if f < 0:
            return b.hashes[at : at + size]
        if f not in self.fds:
            self.fds[f] = os.open(b.paths[f], os.O_RDONLY | os.O_CLOEXEC)
        return np.frombuffer(os.pread(self.fds[f], size * 8, at), dtype=np.uint64)

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds = {}


#: Documents a block of shingle sets holds.
DOCS_PER_BLOCK = 2048
#: Pairs a verification task measures.
PAIRS_PER_TASK = 1 << 14


def make_block(shingles: ShingleSets, docs: I64, *, local_files: bool = False) -> Block:
    """The sets of ``docs``: with ``local_files`` (the tasks run on this machine), a set in a
    named spill file is left there and only its place is sent; every other set is copied in."""
    sizes = shingles.sizes()[docs]
    file = np.full(len(docs), -1, np.int32)
    at = np.zeros(len(docs), np.int64)
    paths: tuple[str, ...] = ()
    if local_files and isinstance(shingles, SpilledShingles):
        all_paths, file_ids, positions = shingles.locate(docs)
        named = [k for k, p in enumerate(all_paths) if p is not None]
        paths = tuple(str(all_paths[k]) for k in named)
        renumber = np.full(len(all_paths), -1, np.int32)
        renumber[named] = np.arange(len(named), dtype=np.int32)
        file = renumber[file_ids]
        at = np.where(file >= 0, positions, 0)
    inline = np.flatnonzero(file < 0)
    sets = [shingles.get(int(docs[k])) for k in inline.tolist()]
    starts = np.cumsum([0] + [len(x) for x in sets])[:-1]
    at[inline] = starts
    hashes = np.concatenate(sets) if sets else np.zeros(0, np.uint64)
    return Block(docs, sizes, file, at, hashes, paths)


def passing_overlap(x: NDArray[np.uint64], y: NDArray[np.uint64], config: ScanConfig) -> int | None:
    """The pair's shingle overlap when its sets pass a rule or need the texts' rule (judged
    after the task, with the texts), else None."""
    inter = overlap(x, y)
    union = len(x) + len(y) - inter
    small = min(len(x), len(y))
    jac, con = (inter / union if union else 0.0), (inter / small if small else 0.0)
    if judge(jac, con, len(x), len(y), config) is not None or needs_texts(jac, con, len(x), len(y), config):
        return inter
    return None


def measure(pairs: I64, config: ScanConfig, *blocks: Block) -> tuple[I64, I64]:
    """Task: (positions in ``pairs`` of the pairs that pass a rule, their overlaps)."""
    readers = [b.reader() for b in blocks]
    owner = {d: r for b, r in zip(blocks, readers, strict=True) for d in b.docs.tolist()}
    passed: list[int] = []
    inters: list[int] = []
    try:
        for pos, (a, b) in enumerate(pairs.tolist()):
            inter = passing_overlap(owner[a](a), owner[b](b), config)
            if inter is not None:
                passed.append(pos)
                inters.append(inter)
    finally:
        for r in readers:
            r.close()
    return np.array(passed, np.int64), np.array(inters, np.int64)


def verify(
    ray: Any,
    pairs: I64,
    shingles: ShingleSets,
    config: ScanConfig,
    text_of: Layouts | None,
    *,
    ahead: int,
    progress: Callable[[int], None] | None = None,
    local_files: bool = False,
) -> list[Match]:
    """``verify.verify`` of ``pairs`` with the measuring in Ray tasks (module docstring).

    ``ahead`` bounds the tasks out at once; ``progress(n)`` as each slice of n pairs is measured;
    ``local_files``: the tasks run on this machine, so sets in spill files are read there.
    """
    if len(pairs) == 0:
        return []
    docs = np.unique(pairs)
    block_of = np.searchsorted(docs, pairs) // DOCS_PER_BLOCK  # each side's block
    refs = [
        ray.put(make_block(shingles, docs[at : at + DOCS_PER_BLOCK], local_files=local_files))
        for at in range(0, len(docs), DOCS_PER_BLOCK)
    ]
    task = ray.remote(num_cpus=1, max_retries=3)(measure)
    cfg = ray.put(config)
    found: list[I64] = [np.zeros((0, 2), np.int64)]
    overlaps: list[I64] = [np.zeros(0, np.int64)]

    def submit(at: int) -> Any:
        part = pairs[at : at + PAIRS_PER_TASK]
        needed = np.unique(block_of[at : at + PAIRS_PER_TASK])
        return task.remote(part, cfg, *[refs[k] for k in needed.tolist()])

    for at, (passed, inters) in _in_order(ray, submit, range(0, len(pairs), PAIRS_PER_TASK), ahead):
        found.append(pairs[at + passed])
        overlaps.append(inters)
        if progress is not None:
            progress(len(pairs[at : at + PAIRS_PER_TASK]))
    return judged(np.concatenate(found), np.concatenate(overlaps), shingles, config, text_of)


def judged(pairs: I64, inters: I64, shingles: ShingleSets, config: ScanConfig, lay: Layouts | None) -> list[Match]:
    """The matches among the pairs the tasks passed (in pair order, with their overlaps):
    the rules on the sizes, the texts' rule and the template test here, as ``verify.verify``
    applies them, float for float."""
    sizes = shingles.sizes()
    matches: list[Match] = []
    for (a, b), inter in zip(pairs.tolist(), inters.tolist(), strict=True):
        size_a, size_b = int(sizes[a]), int(sizes[b])
        union = size_a + size_b - inter
        small = min(size_a, size_b)
        jac, con = (inter / union if union else 0.0), (inter / small if small else 0.0)
        rule = judge(jac, con, size_a, size_b, config)
        if rule is None and lay is not None:  # a pair the texts may still join (verify.judge_texts)
            rule = judge_texts(a, b, shingles.get(a), shingles.get(b), jac, con, lay, config)
        if rule is None:
            continue
        if lay is not None and evidence.distinct_pages(a, b, shingles, lay.text_of, config, inter, lay, lay.facts):
            continue
        matches.append(Match(a, b, jac, con, rule))
    return matches


@dataclass(frozen=True, slots=True)
class Places:
    """Where every document's shingle set lies in the run's spill files (20 bytes a
    document): what a verify task needs to read any set of the run on this machine."""

    sizes: I64
    file: NDArray[np.int32]
    at: I64
    paths: tuple[str, ...]


def places_of(shingles: ShingleSets) -> Places | None:
    """The places of every set, or None when a set is not in a named file (held in this
    process's memory, or in a file that has no name)."""
    if not isinstance(shingles, SpilledShingles):
        return None
    paths, file, at = shingles.locate(np.arange(len(shingles), dtype=np.int64))
    used = np.unique(file)
    if len(used) and (used.min() < 0 or any(paths[k] is None for k in used.tolist())):
        return None
    return Places(shingles.sizes(), file, at, tuple(p or "" for p in paths))


def measure_codes(codes: I64, n: int, config: ScanConfig, places: Places) -> tuple[I64, I64]:
    """Task: of one partition of candidate pair codes (``a * n + b``, sorted), those that pass
    a rule or may pass one on the texts, and their overlaps; each set read from its spill file."""
    fds: dict[int, int] = {}

    def read(i: int) -> U64:
        f, size = int(places.file[i]), int(places.sizes[i])
        if f not in fds:
            fds[f] = os.open(places.paths[f], os.O_RDONLY | os.O_CLOEXEC)
        return np.frombuffer(os.pread(fds[f], size * 8, int(places.at[i])), dtype=np.uint64)

    passed: list[int] = []
    inters: list[int] = []
    last, x = -1, np.zeros(0, np.uint64)
    try:
        for code, a, b in zip(codes.tolist(), (codes // n).tolist(), (codes % n).tolist(), strict=True):
            if a != last:  # sorted codes: a document's pairs come together
                last, x = a, read(a)
            inter = passing_overlap(x, read(b), config)
            if inter is not None:
                passed.append(code)
                inters.append(inter)
    finally:
        for fd in fds.values():
            os.close(fd)
    return np.array(passed, np.int64), np.array(inters, np.int64)


def verify_parts(
    ray: Any,
    pairs: KeptPairs,
    places: Places,
    shingles: ShingleSets,
    config: ScanConfig,
    text_of: Layouts | None,
    *,
    progress: Callable[[int], None] | None = None,
) -> list[Match]:
    """``verify.verify`` of the candidate pairs the candidate stage left in the object store:
    a task a partition reads its pairs there and the sets from the spill files, and only the
    pairs that pass (with their overlaps) come here, to be judged on the texts in pair order.

    ``progress(n)`` as the task of a partition of n pairs finishes.
    """
    task = ray.remote(num_cpus=1, max_retries=3)(measure_codes)
    cfg, where = ray.put(config), ray.put(places)
    out = {
        task.remote(part, pairs.n, cfg, where): count
        for part, count in zip(pairs.parts, pairs.counts, strict=True)
        if count
    }
    refs = list(out)
    todo = list(refs)
    while todo:
        ready, todo = ray.wait(todo, num_returns=len(todo), timeout=0.2, fetch_local=False)
        if progress is not None:
            for ref in ready:
                progress(out[ref])
    results = ray.get(refs)
    codes = np.concatenate([c for c, _ in results]) if results else np.zeros(0, np.int64)
    inters = np.concatenate([i for _, i in results]) if results else np.zeros(0, np.int64)
    order = np.argsort(codes, kind="stable")  # pair order, as verify.verify gives its matches
    codes, inters = codes[order], inters[order]
    return judged(np.stack([codes // pairs.n, codes % pairs.n], axis=1), inters, shingles, config, text_of)


def _in_order(ray: Any, submit: Callable[[int], Any], starts: range, ahead: int) -> Iterator[tuple[int, Any]]:
    """(start, result) of each slice in order, at most ``ahead`` tasks out at once."""
    out: list[tuple[int, Any]] = []
    todo = iter(starts)
    while True:
        while len(out) < ahead:
            at = next(todo, None)
            if at is None:
                break
            out.append((at, submit(at)))
        if not out:
            return
        at, ref = out.pop(0)
        yield at, ray.get(ref)
