"""scan(): the one module that knows the order of the stages.

read -> extract -> shingle -> signature -> candidates -> verify -> cluster -> cleanest.

Files are read, hashed and dropped a batch at a time; after that the run holds shingle
hashes, signatures and small records, never the corpus text (the cleanest-copy stage
re-reads just the cluster members). Batches may run in worker processes (``jobs``); their
results are consumed in input order, so ids, clusters and their order never depend on the
number of workers or on file-system order.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from time import perf_counter as clock
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from . import candidates as cand
from . import cleanest, cluster, extract, read, signature, verify
from .cache import Cache, FileResult, Stamp
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


def _hash_documents(docs: list[Document], config: ScanConfig) -> tuple[Shingles, NDArray[np.uint32]]:
    sh = shingle_batch([d.text for d in docs], config.shingle_size, config.char_shingle_size)
    return sh, signature.signatures(sh, config.num_perm, config.seed).matrix


def _drop_text(doc: Document) -> Document:
    return Document(doc.doc_id, doc.rel, "", doc.encoding, doc.kind, doc.size, doc.locator, doc.record)


def _slice(sh: Shingles, lo: int, hi: int) -> Shingles:
    """Documents lo..hi-1 of a batch as a Shingles of their own."""
    a, b = int(sh.offsets[lo]), int(sh.offsets[hi])
    la, lb = np.searchsorted(sh.line_docs, [lo, hi])
    return Shingles(sh.offsets[lo : hi + 1] - a, sh.hashes[a:b], sh.words[lo:hi], sh.line_hashes[la:lb], sh.line_docs[la:lb] - lo)


def _process(sources: Sequence[SourceFile], config: ScanConfig) -> list[FileResult]:
    """Extract, shingle and sign a slice of files (runs in a worker process).

    Documents of several small files are hashed together (vectorised work wants batches),
    then the arrays are cut back into one FileResult per file, in input order.
    """
    parts: list[list[tuple[list[Document], Shingles, NDArray[np.uint32]]]] = [[] for _ in sources]
    skipped: list[list[Skipped]] = [[] for _ in sources]
    pending: list[tuple[int, Document]] = []

    def flush() -> None:
        sh, matrix = _hash_documents([d for _, d in pending], config)
        lo = 0
        while lo < len(pending):
            owner = pending[lo][0]
            hi = lo
            while hi < len(pending) and pending[hi][0] == owner:
                hi += 1
            parts[owner].append(([_drop_text(d) for _, d in pending[lo:hi]], _slice(sh, lo, hi), matrix[lo:hi]))
            lo = hi
        pending.clear()

    for i, source in enumerate(sources):
        for item in extract.extract(source, config):
            if isinstance(item, Skipped):
                skipped[i].append(item)
                continue
            pending.append((i, item))
            if len(pending) >= config.batch_size:
                flush()
    if pending:
        flush()
    return [
        FileResult(
            source.rel,
            tuple(d for docs, _, _ in parts[i] for d in docs),
            tuple(skipped[i]),
            _concat_shingles([sh for _, sh, _ in parts[i]]),
            np.concatenate([m for _, _, m in parts[i]]) if parts[i] else np.zeros((0, config.num_perm), np.uint32),
        )
        for i, source in enumerate(sources)
    ]


def _tasks(sources: list[SourceFile]) -> list[list[SourceFile]]:
    return [sources[i : i + FILES_PER_TASK] for i in range(0, len(sources), FILES_PER_TASK)]


def _run_files(sources: list[SourceFile], config: ScanConfig, jobs: int) -> Iterator[FileResult]:
    """FileResults for `sources`, in their order, from worker processes when it pays."""
    tasks = _tasks(sources)
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield from _process(task, config)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for results in pool.map(_process, tasks, [config] * len(tasks)):
            yield from results


def _concat_shingles(parts: list[Shingles]) -> Shingles:
    if not parts:
        empty_u = np.zeros(0, np.uint64)
        empty_i = np.zeros(0, np.int64)
        return Shingles(np.zeros(1, np.int64), empty_u, empty_i, empty_u, empty_i)
    if len(parts) == 1:
        return parts[0]
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


class _Hashing:
    """Stage 1-4 over all files: cached results where the cache has them, fresh ones else."""

    def __init__(self, config: ScanConfig, cache_path: Path | None, warnings: list[str]) -> None:
        self.config = config
        self.warnings = warnings
        self.cache: Cache | None = None
        if cache_path is not None:
            try:
                self.cache = Cache(cache_path, config)
            except (OSError, sqlite3.Error) as exc:
                warnings.append(f"signature cache not used ({cache_path}): {exc}")

    def _drop_cache(self, exc: Exception) -> None:
        if self.cache is not None:
            self.warnings.append(f"signature cache not used ({self.cache.path}): {exc}")
            with contextlib.suppress(sqlite3.Error):
                self.cache.close()
        self.cache = None

    def run(self, sources: list[SourceFile], jobs: int, progress: Progress) -> Iterator[FileResult]:
        """FileResults for all sources, in order."""
        results: list[FileResult | None] = [None] * len(sources)
        stamps: dict[int, Stamp] = {}
        todo: list[int] = []
        for i, src in enumerate(sources):
            if self.cache is not None:
                try:
                    hit, stamp = self.cache.lookup(src.rel, src.path)
                except OSError:
                    hit = None  # unreadable now: extraction will say why
                except sqlite3.Error as exc:
                    self._drop_cache(exc)
                    hit = None
                else:
                    stamps[i] = stamp
                if hit is not None:
                    results[i] = hit
                    continue
            todo.append(i)
        progress.advance(len(sources) - len(todo))
        fresh = _run_files([sources[i] for i in todo], self.config, jobs)
        next_fresh = 0
        for i in range(len(sources)):
            result = results[i]
            if result is None:
                result = next(fresh)
                self._store(result, sources[todo[next_fresh]], stamps.get(todo[next_fresh]))
                next_fresh += 1
                progress.advance()
            results[i] = None  # hand it over; keep nothing twice
            yield result
        self.close()

    def _store(self, result: FileResult, source: SourceFile, stamp: Stamp | None) -> None:
        if self.cache is None or stamp is None:
            return
        try:
            self.cache.store(result, source.path, stamp)
            if (self.cache.misses % 256) == 0:
                self.cache.commit()
        except OSError:
            pass  # the file went away since: nothing to remember
        except sqlite3.Error as exc:
            self._drop_cache(exc)

    def close(self) -> None:
        if self.cache is not None:
            try:
                self.cache.close()
            except sqlite3.Error as exc:
                self.warnings.append(f"signature cache not saved: {exc}")
            self.cache = None


def _line_counter(sh: Shingles) -> Callable[[int], int]:
    """How many documents hold each short line (for spotting chrome across the corpus)."""
    values, counts = np.unique(sh.line_hashes, return_counts=True)

    def count(h: int) -> int:
        pos = int(np.searchsorted(values, np.uint64(h)))
        return int(counts[pos]) if pos < len(values) and int(values[pos]) == h else 0

    return count


def scan(
    paths: Sequence[Path | str] | Path | str,
    config: ScanConfig | None = None,
    *,
    progress: Progress | None = None,
    cache: Path | None = None,
    all_pairs: bool = False,
) -> ScanResult:
    """Find the near-duplicate groups among the documents under `paths`.

    Args:
        paths: folders and files to read (a single path is accepted too).
        config: every option; ``ScanConfig()`` when None.
        progress: receives stage starts and advances (the CLI shows them as bars).
        cache: a signature cache file to read and update (see cache.py); None for none.
        all_pairs: compare every pair of documents instead of the LSH and anchor candidates:
            the exact reference that ``dedup eval --exact`` measures the candidates against.

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
    timings: dict[str, float] = {}
    started = clock()
    progress.start("finding files", None)
    for item in read.walk(roots, config):
        if isinstance(item, Skipped):
            skipped.append(item)
        else:
            sources.append(item)
        progress.advance()

    jobs = config.jobs or os.cpu_count() or 1
    docs: list[Document] = []
    shingle_parts: list[Shingles] = []
    matrices: list[NDArray[np.uint32]] = []
    seen_ids: set[str] = set()
    warnings: list[str] = []
    timings["find"] = clock() - started
    started = clock()
    progress.start("hashing", len(sources))
    hashing = _Hashing(config, cache, warnings)
    try:
        for result in hashing.run(sources, jobs, progress):
            skipped.extend(result.skipped)
            keep = np.ones(len(result.docs), bool)
            for i, d in enumerate(result.docs):
                if d.doc_id in seen_ids:
                    keep[i] = False
                    detail = f"id {d.doc_id!r} already used by an earlier document"
                    skipped.append(Skipped(f"{d.rel}:{d.record}" if d.record else d.rel, SkipReason.DUPLICATE_ID, detail))
                seen_ids.add(d.doc_id)
            docs.extend(d for d, k in zip(result.docs, keep.tolist(), strict=True) if k)
            shingle_parts.append(result.shingles if keep.all() else _select(result.shingles, keep))
            matrices.append(result.matrix[keep])
    finally:
        hashing.close()
    timings["hash"] = clock() - started
    source_rels = {src.rel for src in sources}
    files = len(sources) - len({s.rel for s in skipped if s.reason in _FILE_LEVEL and s.rel in source_rels})

    shingles = _concat_shingles(shingle_parts)
    sigs = signature.Signatures(
        np.concatenate(matrices) if matrices else np.zeros((0, config.num_perm), np.uint32),
        config.num_perm,
        config.seed,
    )
    sizes = shingles.sizes()
    infos = tuple(
        DocInfo(i, d.doc_id, d.rel, d.kind, d.encoding, d.size, int(shingles.words[i]), int(sizes[i]), d.locator, d.record)
        for i, d in enumerate(docs)
    )

    started = clock()
    progress.start("comparing", None)
    if all_pairs:
        a, b = np.triu_indices(len(infos), k=1)
        pairs = np.stack([a, b], axis=1).astype(np.int64)
    else:
        pairs = cand.candidate_pairs(sigs, shingles, config)
    timings["candidates"] = clock() - started
    started = clock()
    matches = verify.verify(pairs, shingles, config)
    timings["verify"] = clock() - started

    started = clock()
    progress.start("ranking copies", None)
    line_docs = _line_counter(shingles)
    texts: dict[int, str] = {}

    def text_of(i: int) -> str:
        if i not in texts:
            texts[i] = extract.load_text(infos[i].locator, infos[i].kind, config)
        return texts[i]

    rankings: dict[cluster.Group, list[Pick]] = {}

    def ranking(group: cluster.Group) -> list[Pick]:
        if group not in rankings:
            prefer = [_FORM_RANK.get(infos[i].kind, 9) * 2 + (infos[i].encoding not in _UTF8) for i in group]
            rankings[group] = cleanest.rank(group, [text_of(i) for i in group], line_docs, config, prefer)
        return rankings[group]

    groups = cluster.cluster(len(infos), matches, config.cluster_mode, lambda g: [p.index for p in ranking(g)])
    clusters = tuple(_make_cluster(cid, ranking(g), infos, shingles) for cid, g in enumerate(groups, start=1))
    timings["cluster_and_rank"] = clock() - started
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
        timings=timings,
        warnings=tuple(warnings),
    )


# Among copies of equal penalty, the handiest form wins: plain UTF-8 text first.
_FORM_RANK = {"text": 0, "markdown": 1, "jsonl": 2, "html": 3}
_UTF8 = frozenset({"utf-8", "utf_8", "ascii", "utf-8-sig"})

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


def pair_measures(result: ScanResult, config: ScanConfig) -> Callable[[str, str], tuple[float, float]]:
    """``measure(id_a, id_b) -> (Jaccard, containment)`` on the documents' shingle sets.

    For the evaluation report: texts are re-read (and kept) only for the ids asked about.
    """
    by_id = {d.doc_id: d for d in result.docs}
    sets: dict[str, NDArray[np.uint64]] = {}

    def shingles_of(doc_id: str) -> NDArray[np.uint64]:
        if doc_id not in sets:
            info = by_id[doc_id]
            text = extract.load_text(info.locator, info.kind, config)
            sets[doc_id] = shingle_batch([text], config.shingle_size, config.char_shingle_size).get(0)
        return sets[doc_id]

    def measure(a: str, b: str) -> tuple[float, float]:
        return verify.similarity(shingles_of(a), shingles_of(b))

    return measure


def candidate_loss(result: ScanResult, exact: ScanResult) -> tuple[int, int]:
    """(verified pairs the exhaustive comparison found, of those the candidates missed)."""
    ids = [d.doc_id for d in result.docs]

    def pairs(r: ScanResult) -> set[tuple[str, str]]:
        return {(ids[m.a], ids[m.b]) for m in r.matches}

    reference = pairs(exact)
    return len(reference), len(reference - pairs(result))
