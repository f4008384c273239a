"""scan(): the one module that knows the order of the stages.

read -> extract -> shingle -> signature -> candidates -> verify -> cluster -> cleanest.

Files are read, hashed and dropped a batch at a time; after that the run holds shingle
hashes, signatures and small records, never the corpus text (the cleanest-copy stage
re-reads just the cluster members). Batches may run in worker processes (``jobs``); their
results are consumed in input order, so ids, clusters and their order never depend on the
number of workers or on file-system order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from . import candidates as cand
from . import cleanest, cluster, extract, read, signature, verify
from .config import ScanConfig
from .errors import SkipReason
from .records import Cluster, DocInfo, Document, Member, Pick, ScanResult, Skipped, SourceFile, Summary
from .shingle import Shingles, shingle_batch

#: Files handed to a worker at a time: enough to amortise the hand-over, small enough to
#: keep both cores busy to the end.
FILES_PER_TASK = 256


class Progress(Protocol):
    """What the pipeline tells about its progress; the CLI adapts it to rich."""

    def start(self, stage: str, total: int | None) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class _NoProgress:
    def start(self, stage: str, total: int | None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


@dataclass(frozen=True, slots=True)
class _Batch:
    """What a worker returns for a slice of files: no text, only records and arrays."""

    files: int
    docs: list[Document]  # with text emptied
    words: NDArray[np.int64]
    skipped: list[Skipped]
    shingles: Shingles
    matrix: NDArray[np.uint32]


def _hash_documents(docs: list[Document], config: ScanConfig) -> tuple[Shingles, NDArray[np.uint32]]:
    sh = shingle_batch([d.text for d in docs], config.shingle_size, config.char_shingle_size)
    return sh, signature.signatures(sh, config.num_perm, config.seed).matrix


def _drop_text(doc: Document) -> Document:
    return Document(doc.doc_id, doc.rel, "", doc.encoding, doc.kind, doc.size, doc.locator, doc.record)


def _process(sources: Sequence[SourceFile], config: ScanConfig) -> list[_Batch]:
    """Extract, shingle and sign a slice of files (runs in a worker process)."""
    out: list[_Batch] = []
    pending: list[Document] = []
    skipped: list[Skipped] = []
    files = 0

    def flush() -> None:
        nonlocal pending, skipped, files
        sh, matrix = _hash_documents(pending, config)
        out.append(_Batch(files, [_drop_text(d) for d in pending], sh.words, skipped, sh, matrix))
        pending, skipped, files = [], [], 0

    for source in sources:
        files += 1
        for item in extract.extract(source, config):
            if isinstance(item, Skipped):
                skipped.append(item)
                continue
            pending.append(item)
            if len(pending) >= config.batch_size:
                flush()
    if pending or skipped or files:
        flush()
    return out


def _tasks(sources: list[SourceFile]) -> list[list[SourceFile]]:
    return [sources[i : i + FILES_PER_TASK] for i in range(0, len(sources), FILES_PER_TASK)]


def _run_batches(sources: list[SourceFile], config: ScanConfig, jobs: int) -> Iterator[_Batch]:
    tasks = _tasks(sources)
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield from _process(task, config)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for batches in pool.map(_process, tasks, [config] * len(tasks)):
            yield from batches


def _concat_shingles(parts: list[Shingles]) -> Shingles:
    if not parts:
        empty_u = np.zeros(0, np.uint64)
        empty_i = np.zeros(0, np.int64)
        return Shingles(np.zeros(1, np.int64), empty_u, empty_i, empty_u, empty_i)
    offsets = [np.zeros(1, np.int64)]
    base = 0
    doc_base = 0
    line_docs = []
    for p in parts:
        offsets.append(p.offsets[1:] + base)
        base += int(p.offsets[-1])
        line_docs.append(p.line_docs + doc_base)
        doc_base += len(p)
    return Shingles(
        np.concatenate(offsets),
        np.concatenate([p.hashes for p in parts]),
        np.concatenate([p.words for p in parts]),
        np.concatenate([p.line_hashes for p in parts]),
        np.concatenate(line_docs),
    )


def _select(sh: Shingles, keep: NDArray[np.bool_]) -> Shingles:
    """The documents of a batch for which keep is True."""
    idx = np.flatnonzero(keep)
    sizes = np.diff(sh.offsets)[idx]
    offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    hashes = np.concatenate([sh.get(int(i)) for i in idx]) if len(idx) else np.zeros(0, np.uint64)
    remap = np.full(len(sh), -1, np.int64)
    remap[idx] = np.arange(len(idx))
    line_keep = keep[sh.line_docs]
    return Shingles(offsets, hashes, sh.words[idx], sh.line_hashes[line_keep], remap[sh.line_docs[line_keep]])


def _line_counter(sh: Shingles) -> Callable[[int], int]:
    """How many documents hold each short line (for spotting chrome across the corpus)."""
    values, counts = np.unique(sh.line_hashes, return_counts=True)

    def count(h: int) -> int:
        pos = int(np.searchsorted(values, np.uint64(h)))
        return int(counts[pos]) if pos < len(values) and int(values[pos]) == h else 0

    return count


def scan(
    paths: Sequence[Path | str] | Path | str, config: ScanConfig | None = None, *, progress: Progress | None = None
) -> ScanResult:
    """Find the near-duplicate groups among the documents under `paths`.

    Args:
        paths: folders and files to read (a single path is accepted too).
        config: every option; ``ScanConfig()`` when None.
        progress: receives stage starts and advances (the CLI shows them as bars).

    Returns:
        The ScanResult: clusters with their cleanest copy first, skipped inputs, counts.

    Raises:
        InputError: a path does not exist.

    Example:
        >>> result = scan("samples")  # doctest: +SKIP
        >>> [m.doc_id for m in result.clusters[0].members]  # doctest: +SKIP
        ['000_8bcd120cc8060ff3.txt', '001_288da1160778f453.txt']
    """
    config = config or ScanConfig()
    progress = progress or _NoProgress()
    roots = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    skipped: list[Skipped] = []
    sources: list[SourceFile] = []
    progress.start("finding files", None)
    for item in read.walk(roots, config):
        if isinstance(item, Skipped):
            skipped.append(item)
        else:
            sources.append(item)
        progress.advance()

    jobs = config.jobs or os.cpu_count() or 1
    docs: list[Document] = []
    words: list[NDArray[np.int64]] = []
    shingle_parts: list[Shingles] = []
    matrices: list[NDArray[np.uint32]] = []
    seen_ids: set[str] = set()
    progress.start("hashing", len(sources))
    for batch in _run_batches(sources, config, jobs):
        skipped.extend(batch.skipped)
        keep = np.ones(len(batch.docs), bool)
        for i, d in enumerate(batch.docs):
            if d.doc_id in seen_ids:
                keep[i] = False
                skipped.append(
                    Skipped(d.doc_id, SkipReason.DUPLICATE_ID, f"id {d.doc_id!r} already used by an earlier document")
                )
            seen_ids.add(d.doc_id)
        sh = batch.shingles if keep.all() else _select(batch.shingles, keep)
        docs.extend(d for d, k in zip(batch.docs, keep.tolist(), strict=True) if k)
        words.append(batch.words[keep])
        shingle_parts.append(sh)
        matrices.append(batch.matrix[keep])
        progress.advance(batch.files)
    source_rels = {src.rel for src in sources}
    files = len(sources) - len({s.rel for s in skipped if s.reason in _FILE_LEVEL and s.rel in source_rels})

    shingles = _concat_shingles(shingle_parts)
    sigs = signature.Signatures(
        np.concatenate(matrices) if matrices else np.zeros((0, config.num_perm), np.uint32),
        config.num_perm,
        config.seed,
    )
    sizes = shingles.sizes()
    all_words = np.concatenate(words) if words else np.zeros(0, np.int64)
    infos = tuple(
        DocInfo(i, d.doc_id, d.rel, d.kind, d.encoding, d.size, int(all_words[i]), int(sizes[i]), d.locator, d.record)
        for i, d in enumerate(docs)
    )

    progress.start("comparing", None)
    pairs = cand.candidate_pairs(sigs, shingles, config)
    matches = verify.verify(pairs, shingles, config)

    progress.start("ranking copies", None)
    line_docs = _line_counter(shingles)
    texts: dict[int, str] = {}

    def text_of(i: int) -> str:
        if i not in texts:
            texts[i] = extract.load_text(infos[i].locator, infos[i].kind, config)
        return texts[i]

    def ranking(group: cluster.Group) -> list[Pick]:
        return cleanest.rank(group, [text_of(i) for i in group], line_docs, config)

    groups = cluster.cluster(len(infos), matches, config.cluster_mode, lambda g: [p.index for p in ranking(g)])
    clusters = tuple(_make_cluster(cid, ranking(g), infos, shingles) for cid, g in enumerate(groups, start=1))
    duplicates = [m for c in clusters for m in c.members[1:]]
    summary = Summary(
        files=files,
        documents=len(infos),
        skipped=len(skipped),
        clusters=len(clusters),
        duplicates=len(duplicates),
        bytes_saved=sum(m.size for m in duplicates),
        candidates=len(pairs),
        matches=len(matches),
    )
    return ScanResult(
        roots=tuple(str(r) for r in roots),
        params=config.params(),
        summary=summary,
        clusters=clusters,
        skipped=tuple(sorted(skipped, key=lambda s: s.rel)),
        docs=infos,
        matches=tuple(matches),
    )


# Reasons that mean a whole file gave nothing (as opposed to one bad record in it).
_FILE_LEVEL = frozenset({SkipReason.UNREADABLE, SkipReason.BINARY, SkipReason.EMPTY, SkipReason.EXTRACT_FAILED})


def _make_cluster(cluster_id: int, picks: list[Pick], infos: Sequence[DocInfo], shingles: Shingles) -> Cluster:
    best = shingles.get(picks[0].index)
    members = []
    for pos, pick in enumerate(picks):
        info = infos[pick.index]
        mine = shingles.get(pick.index)
        inter = verify.overlap(best, mine)
        union = len(best) + len(mine) - inter
        members.append(
            Member(
                doc_id=info.doc_id,
                rel=info.rel,
                words=info.words,
                size=info.size,
                cleanest=pos == 0,
                jaccard=inter / union if union else 1.0,
                containment=inter / len(best) if len(best) else 1.0,
                penalty=pick.penalty,
                reasons=pick.reasons,
                record=info.record,
            )
        )
    return Cluster(cluster_id, tuple(members))
