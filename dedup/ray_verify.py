"""Stage 6 on Ray: the exact measure of candidate pairs in Ray tasks, joined by document.

The shingle sets of the documents the candidates name go into Ray's object store once, in
blocks of consecutive documents; a task takes a slice of the pairs with just the blocks its
pairs touch, measures each pair exactly (``verify.overlap``) and returns the pairs that pass
a rule (``verify.judge``) with their overlap. The run's machine then applies the template
test (``evidence.distinct_pages``: it re-reads texts, which stay where the files are) to
those pairs alone, in pair order, so the matches are ``verify.verify``'s, float for float.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import evidence
from .config import ScanConfig
from .records import Match
from .sets import ShingleSets
from .verify import Layouts, judge, overlap

I64 = NDArray[np.int64]
Block = tuple[I64, I64, NDArray[np.uint64]]  # documents (sorted), offsets, hashes

#: Documents a block of shingle sets holds in the object store.
DOCS_PER_BLOCK = 2048
#: Pairs a verification task measures.
PAIRS_PER_TASK = 1 << 14


def make_block(shingles: ShingleSets, docs: I64) -> Block:
    """The sets of ``docs`` laid end to end, with their offsets."""
    sets = [shingles.get(int(i)) for i in docs]
    offsets = np.zeros(len(sets) + 1, np.int64)
    offsets[1:] = np.cumsum([len(s) for s in sets])
    hashes = np.concatenate(sets) if sets else np.zeros(0, np.uint64)
    return docs, offsets, hashes


def measure(pairs: I64, config: ScanConfig, *blocks: Block) -> tuple[I64, I64]:
    """Task: (positions in ``pairs`` of the pairs that pass a rule, their overlaps)."""
    where = {d: (k, j) for k, b in enumerate(blocks) for j, d in enumerate(b[0].tolist())}

    def get(i: int) -> NDArray[np.uint64]:
        k, j = where[i]
        _, offsets, hashes = blocks[k]
        return hashes[offsets[j] : offsets[j + 1]]

    passed: list[int] = []
    inters: list[int] = []
    for pos, (a, b) in enumerate(pairs.tolist()):
        x, y = get(a), get(b)
        inter = overlap(x, y)
        union = len(x) + len(y) - inter
        small = min(len(x), len(y))
        jac, con = (inter / union if union else 0.0), (inter / small if small else 0.0)
        if judge(jac, con, len(x), len(y), config) is not None:
            passed.append(pos)
            inters.append(inter)
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
) -> list[Match]:
    """``verify.verify`` of ``pairs`` with the measuring in Ray tasks (module docstring).

    ``ahead`` bounds the tasks out at once; ``progress(n)`` as each slice of n pairs is judged.
    """
    if len(pairs) == 0:
        return []
    docs = np.unique(pairs)
    block_of = np.searchsorted(docs, pairs) // DOCS_PER_BLOCK  # each side's block
    refs = [ray.put(make_block(shingles, docs[at : at + DOCS_PER_BLOCK])) for at in range(0, len(docs), DOCS_PER_BLOCK)]
    task = ray.remote(num_cpus=1, max_retries=3)(measure)
    cfg = ray.put(config)
    sizes = shingles.sizes()
    lay = text_of

    def submit(at: int) -> Any:
        part = pairs[at : at + PAIRS_PER_TASK]
        needed = np.unique(block_of[at : at + PAIRS_PER_TASK])
        return task.remote(part, cfg, *[refs[k] for k in needed.tolist()])

    matches: list[Match] = []
    for at, (passed, inters) in _in_order(ray, submit, range(0, len(pairs), PAIRS_PER_TASK), ahead):
        for pos, inter in zip(passed.tolist(), inters.tolist(), strict=True):
            a, b = (int(v) for v in pairs[at + pos])
            size_a, size_b = int(sizes[a]), int(sizes[b])
            union = size_a + size_b - inter
            small = min(size_a, size_b)
            jac, con = (inter / union if union else 0.0), (inter / small if small else 0.0)
            rule = judge(jac, con, size_a, size_b, config)
            if rule is None:  # never: the task judged it so
                continue
            if lay is not None and evidence.distinct_pages(a, b, shingles, lay.text_of, config, inter, lay, lay.facts):
                continue
            matches.append(Match(a, b, jac, con, rule))
        if progress is not None:
            progress(len(pairs[at : at + PAIRS_PER_TASK]))
    return matches


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
