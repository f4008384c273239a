"""Stages 2-4 over all files: files -> Chunks (documents, shingle sets, signatures).

Files the signature cache holds are served from it; the others are cut into tasks (files
in groups, a big JSON Lines file in line-aligned parts) that the engine runs with
``hash_files`` (extract, shingle, sign). Chunks come back in file order whatever the engine
or the cache, and fresh ones are stored in the cache as they come.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from . import candidates as cand
from . import extract, memory, signature
from .cache import Hit, Stamp
from .cache_format import skipped_from
from .config import ScanConfig
from .engine import Engine, Startable
from .kept import KeepsArrays, Kept, KeptBatches, KeptPairs
from .options import RunOptions
from .progress import Progress
from .records import DocBatch, DocTable, Document, Skipped, SourceFile
from .runcache import RunCache
from .sets import Chunk, Shingles, ShingleSets
from .shingle import shingle_batch
from .spill import ShingleStore, SpillFolder


def hash_documents(docs: Sequence[Document], config: ScanConfig) -> tuple[Shingles, NDArray[np.uint32]]:
    """The documents' shingle sets and signature rows."""
    sh = shingle_batch([d.text for d in docs], config.shingle_size, config.char_shingle_size)
    return sh, signature.signatures(sh, config.num_perm, config.seed).matrix


@dataclass(frozen=True, slots=True)
class Part:
    """Lines [start, stop) of a big JSON Lines file, hashed as a task of its own."""

    source: SourceFile
    start: int
    stop: int
    first_line: int


@dataclass(frozen=True, slots=True)
class Task:
    """Work for one worker: whole files, or one part of a big file."""

    items: tuple[SourceFile | Part, ...]
    completes: int  # how many sources are finished when this task is (0 for a file's first parts)
    storable: bool  # whole files only: the cache keeps files, not parts


Packed = tuple[tuple[Any, ...] | Part, ...]


def pack(items: Sequence[SourceFile | Part]) -> Packed:
    """Task items as they cross to a worker: files as plain tuples. A named tuple pickles
    through a Python-level call, most of what handing out tasks cost the run's process.
    A task holds files or one part, never both (``tasks``), so files convert in one
    C-level ``map``."""
    if items and isinstance(items[0], Part):
        return tuple(items)
    return tuple(map(tuple, items))  # type: ignore[arg-type]


def unpack(packed: Sequence[tuple[Any, ...] | Part]) -> list[SourceFile | Part]:
    """The inverse of ``pack``, in the worker."""
    if packed and isinstance(packed[0], Part):
        return list(packed)  # type: ignore[arg-type]
    return list(map(SourceFile._make, packed))  # type: ignore[arg-type]


def hash_files(sources: Sequence[SourceFile | Part], config: ScanConfig) -> Chunk:
    """Extract, shingle and sign a slice of files (in a worker, or here).

    Documents of several small files are hashed together (vectorised work wants batches),
    and the slice comes back as one Chunk: a few large arrays pickle far faster than one
    set per file.
    """
    docs: list[DocBatch] = []
    skipped: list[Skipped] = []
    counts = [0] * len(sources)
    parts: list[tuple[Shingles, NDArray[np.uint32]]] = []
    pending: list[Document] = []

    def flush() -> None:
        parts.append(hash_documents(pending, config))
        docs.append(DocBatch.of(pending))  # the records, without their texts
        pending.clear()

    for i, source in enumerate(sources):
        items = (
            extract.extract_range(source.source, config, source.start, source.stop, source.first_line)
            if isinstance(source, Part)
            else extract.extract(source, config)
        )
        for item in items:
            if isinstance(item, Skipped):
                skipped.append(item)
                continue
            pending.append(item)
            counts[i] += 1
            if len(pending) >= config.batch_size:
                flush()
    if pending:
        flush()
    shingles = Shingles.concat([sh for sh, _ in parts])
    matrices = [m for _, m in parts]
    parts.clear()  # the rows are dropped as they are copied: the peak is one matrix, not two
    matrix = _stack(matrices, config.num_perm)
    return Chunk(DocBatch.concat(docs), tuple(skipped), shingles, matrix, tuple(counts))


def hash_packed(packed: Packed, config: ScanConfig) -> Chunk:
    """``hash_files`` of ``pack``ed items, the whole chunk sent back."""
    return hash_files(unpack(packed), config)


_worker_files: dict[str, IO[bytes]] = {}  # spill folder -> this worker's file in it


def hash_files_to(packed: Packed, config: ScanConfig, spill_dir: str) -> Chunk:
    """``hash_files`` in a worker that shares the run's files: the shingle hashes go to the
    worker's own file in ``spill_dir`` (the run reads them from there), and only the rest
    is sent back, with the anchors, the one part of the hashes the run needs in memory."""
    chunk = hash_files(unpack(packed), config)
    sh = chunk.shingles
    f = _worker_files.get(spill_dir)
    if f is None:
        f = _worker_files[spill_dir] = open(os.path.join(spill_dir, f"w{os.getpid()}.bin"), "ab")  # noqa: SIM115
    offset = f.tell()
    f.write(np.ascontiguousarray(sh.hashes, dtype=np.uint64).data)  # the array's memory: no bytes copy
    f.flush()
    anchors = cand.select_anchors(sh, config.anchor_bits)
    return dataclasses.replace(chunk, shingles=sh.without_hashes(), hashes_at=(f.name, offset), anchors=anchors)


def hash_split(packed: Packed, config: ScanConfig, spill_dir: str | None) -> tuple[Chunk, NDArray[np.uint32], cand.Anchors]:
    """``hash_files_to`` (``hash_packed`` without ``spill_dir``) for an engine that keeps
    arrays where the task ran: the chunk without its signature rows and anchors, then them."""
    chunk = hash_files_to(packed, config, spill_dir) if spill_dir else hash_packed(packed, config)
    anchors = chunk.anchors if chunk.anchors is not None else cand.select_anchors(chunk.shingles, config.anchor_bits)
    small = dataclasses.replace(chunk, matrix=np.zeros((0, chunk.matrix.shape[1]), np.uint32), anchors=None)
    return small, chunk.matrix, anchors


def with_rows(chunk: Chunk) -> Chunk:
    """A chunk whose signature rows an engine kept, with them fetched (for the cache)."""
    if chunk.kept is None:
        return chunk
    return dataclasses.replace(chunk, matrix=chunk.kept.rows(), anchors=chunk.kept.anchor_table(), kept=None)


def with_hashes(chunk: Chunk) -> Chunk:
    """A chunk whose hashes a worker left in a file, with them read back in."""
    if chunk.hashes_at is None:
        return chunk
    path, offset = chunk.hashes_at
    sh = chunk.shingles
    with open(path, "rb") as f:
        hashes = np.fromfile(f, dtype=np.uint64, count=int(sh.offsets[-1]), offset=offset)
    return dataclasses.replace(chunk, shingles=dataclasses.replace(sh, hashes=hashes), hashes_at=None)


def tasks(sources: list[SourceFile], config: ScanConfig, options: RunOptions) -> Iterator[Task]:
    """Files in groups of ``files_per_task``; a big JSON Lines file in line-aligned parts
    (found as they are handed out: the file is read once, while the first parts hash)."""
    group: list[SourceFile] = []
    split = options.split_bytes
    for source in sources:
        ranges = extract.jsonl_ranges(source, config, split) if source.size > split else None
        if ranges is None:
            group.append(source)
            if len(group) >= options.files_per_task:
                yield Task(tuple(group), len(group), True)
                group = []
            continue
        if group:
            yield Task(tuple(group), len(group), True)
            group = []
        ahead = next(ranges, None)
        while ahead is not None:
            (start, stop, line), ahead = ahead, next(ranges, None)
            yield Task((Part(source, start, stop, line),), int(ahead is None), False)
    if group:
        yield Task(tuple(group), len(group), True)


def is_big(sources: list[SourceFile], options: RunOptions) -> bool:
    """Worth the engine: more than one task's files, or a file cut into parts."""
    return len(sources) > options.files_per_task or any(s.size > options.split_bytes for s in sources)


def run_tasks(todo: Iterable[Task], config: ScanConfig, engine: Engine | None, spill: SpillFolder) -> Iterator[Chunk]:
    """One Chunk per task, in task order: from the engine when given, else here. An engine
    whose workers share this machine's files leaves the hashes in the run's spill folder."""
    if engine is None:
        for task in todo:
            yield hash_files(task.items, config)
        return
    here = getattr(engine, "same_machine", False)
    if isinstance(engine, KeepsArrays):  # the rows and anchors stay with the engine's tasks
        split = functools.partial(hash_split, config=config, spill_dir=spill.path() if here else None)
        for chunk, (matrix, anchors) in engine.map_keeping(split, (pack(t.items) for t in todo), 2):
            yield dataclasses.replace(chunk, kept=Kept(matrix, anchors, engine.fetch))
        return
    if here:
        work: Callable[[Packed], Chunk] = functools.partial(hash_files_to, config=config, spill_dir=spill.path())
    else:
        work = functools.partial(hash_packed, config=config)
    yield from engine.map(work, (pack(t.items) for t in todo))


class Hashing:
    """All files to Chunks: cached results where the cache has them, fresh ones else.

    ``look_up`` stamps every file (its content digest, by the stat shortcut where the
    cache allows); ``run`` then gives the chunks in file order. ``digests`` (file -> content
    digest) is what the later caches key on; it is empty without a cache.
    """

    def __init__(self, config: ScanConfig, options: RunOptions, cache: RunCache) -> None:
        self.config, self.options, self.cache = config, options, cache
        self.digests: dict[str, str] = {}
        self.sources: list[SourceFile] = []
        self.stamps: list[Stamp | None] = []
        self._hits: list[Hit | None] | None = None

    def look_up(self, sources: list[SourceFile]) -> None:
        """Stamp each file: its content digest, from the stat shortcut where the cache has it."""
        self.sources = sources
        self.stamps = [None] * len(sources)
        self._hits = None
        self.cache.prefetch(sources)
        for i, src in enumerate(sources):
            if not self.cache.on:
                break
            self.stamps[i] = self.cache.stamp(src)
        self.digests = {src.rel: st.digest for src, st in zip(sources, self.stamps, strict=True) if st is not None}

    def hits(self) -> list[Hit | None]:
        """Where the cache holds each stamped file's results (read when first needed)."""
        if self._hits is None:
            self.cache.prefetch_content([st.digest for st in self.stamps if st is not None])
            self._hits = [None if st is None else self.cache.hit(st) for st in self.stamps]
            if not self.cache.on:  # turned off on the way: nothing is served from it
                self._hits = [None] * len(self.sources)
        return self._hits

    def run(self, engine: Engine, spill: SpillFolder, progress: Progress) -> Iterator[Chunk]:
        """Chunks covering all sources, in source order (after ``look_up``)."""
        sources, hits, stamps = self.sources, self.hits(), self.stamps
        # Runs of consecutive files: cached ones (served from their batches) and fresh ones.
        runs: list[tuple[bool, int, int]] = []
        for i, hit in enumerate(hits):
            cached = hit is not None
            if runs and runs[-1][0] == cached:
                runs[-1] = (cached, runs[-1][1], i + 1)
            else:
                runs.append((cached, i, i + 1))
        fresh_runs = [sources[lo:hi] for cached, lo, hi in runs if not cached]
        big = is_big([s for run in fresh_runs for s in run], self.options)
        todo = [t for run in fresh_runs for t in tasks(run, self.config, self.options)]
        if (big or len(sources) >= self.options.parallel_rank_groups) and isinstance(engine, Startable):
            engine.start(len(todo) if big else None)  # a big run: the workers start while this process is small
        mine, theirs = itertools.tee(todo)
        use = engine if big and engine.jobs > 1 else None
        fresh = zip(mine, run_tasks(theirs, self.config, use, spill), strict=True)
        for cached, lo, hi in runs:
            if cached:
                yield from self._from_cache(sources[lo:hi], hits[lo:hi], stamps[lo:hi])
                progress.advance(hi - lo)
                continue
            pos = lo
            while pos < hi:
                task, chunk = next(fresh)
                n = task.completes
                if task.storable and self.cache.on:
                    self.cache.store(with_hashes(with_rows(chunk)), sources[pos : pos + n], stamps[pos : pos + n])
                progress.advance(n)
                pos += n
                yield chunk

    def _from_cache(
        self, sources: list[SourceFile], hits: list[Hit | None], stamps: list[Stamp | None]
    ) -> Iterator[Chunk]:
        """The cached files of a run, one Chunk per batch they come from."""
        group: list[tuple[SourceFile, Hit, Stamp | None]] = []
        for source, hit, stamp in zip(sources, hits, stamps, strict=True):
            assert hit is not None
            if group and group[-1][1].batch != hit.batch:
                yield self._cached_chunk(group)
                group = []
            group.append((source, hit, stamp))
        if group:
            yield self._cached_chunk(group)

    def _cached_chunk(self, group: list[tuple[SourceFile, Hit, Stamp | None]]) -> Chunk:
        """The group's chunk from its batch; hashed afresh here if the batch is gone (pruned
        by another scan sharing the cache) or damaged."""
        batch = self.cache.batch(group[0][1], max(hit.hi for _, hit, _ in group))
        if batch is None:
            sources = [source for source, _, _ in group]
            chunk = hash_files(sources, self.config)
            self.cache.store(chunk, sources, [stamp for _, _, stamp in group])
            return chunk
        docs: list[DocBatch] = []
        skipped: list[Skipped] = []
        parts: list[Shingles] = []
        matrices: list[NDArray[np.uint32]] = []
        counts: list[int] = []
        # Consecutive files that are consecutive in the batch too are cut out in one piece.
        i = 0
        while i < len(group):
            j = i + 1
            while j < len(group) and group[j][1].lo == group[j - 1][1].hi:
                j += 1
            for source, hit, _ in group[i:j]:
                docs.append(batch.take(hit.lo, hit.hi, source))
                skipped.extend(skipped_from(hit.skipped, source.rel))
                counts.append(hit.hi - hit.lo)
            lo, hi = group[i][1].lo, group[j - 1][1].hi
            parts.append(batch.shingles.slice(lo, hi))
            matrices.append(batch.matrix[lo:hi])
            i = j
        return Chunk(
            DocBatch.concat(docs), tuple(skipped), Shingles.concat(parts), np.concatenate(matrices), tuple(counts)
        )


def unique_ids(batch: DocBatch, taken: set[str]) -> DocBatch:
    """The batch with each record's id made unique among the run's ids so far (``taken``,
    which starts with every file's path and gets the batch's ids): see ``unique_names``.
    Batches come in file order whatever the workers or the cache, so the ids do too.
    """
    ids = unique_names(batch.doc_ids, batch.records, taken)
    return batch if ids == list(batch.doc_ids) else dataclasses.replace(batch, doc_ids=tuple(ids))


def unique_names(doc_ids: Sequence[str], records: Sequence[int | None], taken: set[str]) -> list[str]:
    """The ids a scan gives these documents, in order (``explain`` names records by them too).

    A file keeps its path. A record whose qualified id is taken (a file named ``a.jsonl:x``,
    or an id repeated in one file) gets ``@L`` and its number appended until it is free.
    ``taken`` gets the new ids.
    """
    ids = list(doc_ids)
    for i, (doc_id, record) in enumerate(zip(doc_ids, records, strict=True)):
        if record is None:
            continue  # a whole file: its path, reserved in ``taken`` from the start
        unique = doc_id
        while unique in taken:
            unique = f"{unique}@L{record}"
        taken.add(unique)
        ids[i] = unique
    return ids


@dataclass(slots=True)
class Hashed:
    """What the later stages need of all chunks: the documents (with unique ids), their
    shingle sets (in memory or spilled), the anchors and the signatures, and the skips."""

    infos: DocTable
    shingles: ShingleSets
    anchors: cand.Anchors | None
    signatures: signature.Signatures | None
    skipped: list[Skipped]
    kept: KeptBatches | None = None  # instead of the two above, when an engine kept them


    def candidate_pairs(
        self, config: ScanConfig, find: Callable[..., NDArray[np.int64] | KeptPairs] | None = None
    ) -> NDArray[np.int64] | KeptPairs:
        """Stage 5 on these documents (by ``find``, an engine's ``candidate_pairs``, when given);
        the signatures and anchors are let go after it."""
        sizes = self.shingles.sizes()
        if self.kept is not None and find is not None:  # the engine that kept them reads them where they lie
            pairs = find(self.kept, None, sizes, config)
        else:
            if self.kept is not None:
                self.signatures, self.anchors = self.kept.gather()
            assert self.signatures is not None and self.anchors is not None, "candidate_pairs is called once"
            pairs = (find or cand.candidate_pairs)(self.signatures, self.anchors, sizes, config)
        self.signatures = self.anchors = self.kept = None
        return pairs


def collect(chunks: Iterable[Chunk], sources: list[SourceFile], config: ScanConfig, options: RunOptions) -> Hashed:
    """Keep what later stages need of each chunk as it comes, and let the chunk go."""
    infos = DocTable()
    store = ShingleStore(options.spill_hashes)
    anchor_parts: list[cand.Anchors] = []
    anchor_counts: list[int] = []
    matrices: list[NDArray[np.uint32]] = []
    kept: list[Kept | None] = []  # per chunk: the handles an engine kept, None for arrays here
    skipped: list[Skipped] = []
    taken_ids = {src.rel for src in sources}  # a file's id is its path, whatever records come before it
    try:
        for n, chunk in enumerate(chunks, start=1):
            skipped.extend(chunk.skipped)
            batch = unique_ids(chunk.docs, taken_ids)
            sh = chunk.shingles
            infos.extend(batch, sh.words.tolist(), sh.sizes().tolist())
            kept.append(chunk.kept)
            if chunk.kept is None:
                anchors = chunk.anchors if chunk.anchors is not None else cand.select_anchors(sh, config.anchor_bits)
                anchor_parts.append(anchors)
                matrices.append(chunk.matrix)
                del anchors
            anchor_counts.append(len(batch))
            store.add(sh, chunk.hashes_at)
            del chunk, sh, batch
            if n % memory.EVERY == 0:
                memory.give_back()  # what the chunks so far left in the C heap
    except BaseException:  # a worker died, Ctrl-C, a full disk: the files the store opened close now
        store.close()
        raise
    shingles = store.finish()
    if any(k is not None for k in kept):
        here = zip(matrices, anchor_parts, strict=True)
        items = tuple(k if k is not None else Kept(*next(here)) for k in kept)
        batches = KeptBatches(tuple(anchor_counts), items, config.num_perm, config.seed)
        return Hashed(infos, shingles, None, None, skipped, batches)
    anchors = cand.Anchors.join(anchor_parts, anchor_counts)  # empties anchor_parts
    sigs = signature.Signatures(_stack(matrices, config.num_perm), config.num_perm, config.seed)
    memory.give_back()
    return Hashed(infos, shingles, anchors, sigs, skipped)


def _stack(parts: list[NDArray[np.uint32]], num_perm: int) -> NDArray[np.uint32]:
    """The rows of all parts in one matrix; each part is dropped from the list once copied
    (and the freed heap given back now and then), so the peak is the matrix and a few
    parts, not twice the matrix."""
    if len(parts) == 1 and parts[0].flags.c_contiguous and parts[0].dtype == np.uint32:
        return parts.pop()  # one chunk (a run of one task): no copy, no second matrix
    out = np.empty((sum(len(p) for p in parts), num_perm), np.uint32)
    pos = 0
    parts.reverse()
    while parts:
        part = parts.pop()
        out[pos : pos + len(part)] = part
        pos += len(part)
        del part
        if len(parts) % memory.EVERY == 0:
            memory.give_back()
    return out
