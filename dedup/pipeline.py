"""scan(): the one module that knows the order of the stages.

walk -> hash files (extract, shingle, sign) -> candidate pairs -> verify -> cluster and
rank -> measure members -> result.

Each stage is a function of its own module; the machinery has modules of its own too:
``hashing`` (files to chunks, with the cache), ``spill`` (where the shingle sets live),
``ranking`` (the ranking driver), ``memo`` (the whole-result cache), ``runcache`` (the run's
one cache object) and ``engine`` (what runs the parallel work). After hashing, the run holds
shingle hashes, signatures and small records, never the corpus text (ranking re-reads just
the cluster members). Results are consumed in input order, so ids, clusters and their order
never depend on the engine, the number of workers or file-system order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from time import perf_counter
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import cluster, evidence, prefer, read, verify
from .config import ScanConfig
from .engine import FindsPairs, SplitsStars, make_engine
from .errors import SkipReason
from .hashing import Hashing, collect
from .kept import as_array
from .members import make_cluster
from .memo import ResultMemo
from .options import RunOptions
from .progress import NoProgress, Progress
from .ranking import Ranking
from .ray_input import Fetched
from .records import Match, ScanResult, Skipped, SourceFile, Summary
from .runcache import RunCache
from .sets import ShingleSets
from .spill import SpillFolder

__all__ = ["Progress", "RunOptions", "Timings", "scan"]

#: Candidate pairs verified between two progress updates.
VERIFY_STEP = 1 << 16

# Reasons that mean a whole file gave nothing (as opposed to one bad record in it).
_FILE_LEVEL = frozenset({SkipReason.UNREADABLE, SkipReason.BINARY, SkipReason.EMPTY, SkipReason.EXTRACT_FAILED,
                         SkipReason.NOT_A_FILE, SkipReason.TOO_COMPLEX, SkipReason.DEDUP_OUTPUT})  # fmt: skip


class Timings(dict[str, float]):
    """Seconds per stage, taken by ``stage``."""

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage ``name`` (also when it returns or raises)."""
        start = perf_counter()
        try:
            yield
        finally:
            self[name] = self.get(name, 0.0) + perf_counter() - start


def scan(
    paths: Sequence[Path | str] | Path | str,
    config: ScanConfig | None = None,
    *,
    progress: Progress | None = None,
    cache: Path | None = None,
    all_pairs: bool = False,
    engine_name: str = "local",
    engine_options: dict[str, Any] | None = None,
    options: RunOptions | None = None,
) -> ScanResult:
    """Find the near-duplicate groups among the documents under `paths`.

    Args:
        paths: folders and files to read (a single path is accepted too).
        config: every option; ``ScanConfig()`` when None.
        progress: receives stage starts and advances (the CLI shows them as bars).
        cache: a signature cache file to read and update (see cache.py); None for none.
        all_pairs: compare every pair of documents instead of the LSH and anchor candidates:
            the exact reference that ``dedup eval --exact`` measures the candidates against.
        engine_name: what runs the parallel work: "local" (worker processes) or "ray"; the
            result is the same. Ignored when ``options`` is given.
        engine_options: the engine's own settings (for "ray": ``address``).
        options: how the scan runs (engine, task and spill sizes); never changes the result.

    Returns:
        The ScanResult: clusters with their cleanest copy first, skipped inputs, counts.

    Raises:
        InputError: a path does not exist.
        WorkerError: a worker failed or was killed.

    Example:
        >>> result = scan("samples")  # doctest: +SKIP
        >>> [m.doc_id for m in result.clusters[0].members]  # doctest: +SKIP
        ['000_8bcd120cc8060ff3.txt', '001_288da1160778f453.txt']
    """
    config = config or ScanConfig()
    options = options or RunOptions(engine=engine_name, engine_options=dict(engine_options or {}))
    progress = progress or NoProgress()
    asked = [paths] if isinstance(paths, (str, Path)) else list(paths)
    fetched = Fetched()  # roots named by URL (file://, s3://): their local paths, or local copies
    timings = Timings()
    warnings: list[str] = []

    with timings.stage("find"):
        progress.start("finding files", None)
        roots = fetched.local(asked)
        given = [fetched.named(r) for r in roots]
        walked = list(read.walk(roots, config, fetched.prefixes()))  # the whole walk happens in that call
        sources = [item for item in walked if isinstance(item, SourceFile)]
        skipped = [item for item in walked if isinstance(item, Skipped)]
        progress.advance(len(walked))
        warnings.extend(prefer.unmatched(config.prefer, [s.rel for s in sources]))  # --prefer newst

    engine = make_engine(options.engine, options.jobs(config), **options.engine_options)
    spill = SpillFolder()
    progress.start("hashing", len(sources))
    run_cache = RunCache(cache, config, warnings)
    try:
        with timings.stage("hash"):
            memo = ResultMemo(run_cache, config, given, enabled=not all_pairs)
            hashing = Hashing(config, options, run_cache)
            # Not a file changed, came or went since a stored scan: by their stat, then by content.
            known = memo.by_stat(sources, skipped)
            if known is None:
                hashing.look_up(sources)
                known = memo.by_content(sources, hashing.stamps, skipped)
            if known is not None:
                return dataclasses.replace(known, timings=timings)
            hashed = collect(hashing.run(engine, spill, progress), sources, config, options)
            skipped.extend(hashed.skipped)
        infos, shingles = hashed.infos, hashed.shingles

        with timings.stage("candidates"):
            progress.start("finding candidates", None)
            on_engine = engine if isinstance(engine, FindsPairs) else None
            find = functools.partial(on_engine.candidate_pairs, progress=progress) if on_engine is not None else None
            pairs = _all_pairs(len(infos)) if all_pairs else hashed.candidate_pairs(config, find)
            del hashed  # signatures and anchors: half the run's memory, not needed past this point

        ranking = Ranking(infos, shingles, config, options, run_cache, hashing.digests, engine, progress)
        # The exact check's re-reads, checked against the digests; laid out once for every call.
        text_of = verify.Layouts(_text_or_empty(ranking.reader()), config)
        with timings.stage("verify"):
            progress.start("comparing", len(pairs))
            if on_engine is not None:
                matches = on_engine.verify(pairs, shingles, config, text_of, progress.advance)
            else:
                matches = _verify(as_array(pairs), shingles, config, text_of, progress)

        with timings.stage("cluster_and_rank"):
            confirm = functools.partial(verify.verify, shingles=shingles, config=config, text_of=text_of)
            exact = cluster.Exact(shingles, config, confirm)
            if isinstance(engine, SplitsStars):  # the Ray engine splits the components in its tasks
                exact.many = engine.star_splitter(shingles, infos, config)
            groups, matches = ranking.groups(matches, config.cluster_mode, exact)
            skipped.extend(ranking.skipped())
            ranked = [ranking(g) for g in groups]
            ranked, preferred = prefer.prefer_groups(ranked, infos, config.prefer)  # --prefer, before the evidence
            ranked_text = _text_or_empty(ranking.text_of)
            found = evidence.measure([[p.index for p in picks] for picks in ranked], shingles, ranked_text, config, ranking.owned)
            measured = {(m.a, m.b): m for m in matches}
            clusters = tuple(
                make_cluster(cid, picks, infos, shingles, measured, config, ev)
                for cid, (picks, ev) in enumerate(zip(ranked, found, strict=True), start=1)
            )
            clusters = prefer.mark(clusters, preferred)
            ranking.save()

        result = ScanResult(
            roots=tuple(given),
            params=config.params(),
            summary=_summary(sources, skipped, len(infos), clusters, len(pairs), len(matches)),
            clusters=clusters,
            skipped=tuple(sorted(skipped, key=lambda s: s.rel)),
            docs=infos,
            matches=tuple(matches),
            timings=timings,
            warnings=tuple(warnings),
        )
        if not ranking.changed:  # a run that saw files change is not one to serve again
            memo.store(result, sources)
        run_cache.close()
        result = dataclasses.replace(result, warnings=tuple(warnings))  # and any the cache gave
        return fetched.renamed(result)  # copies of s3:// inputs named by their URLs: the copies go below
    finally:
        run_cache.close()
        engine.close()
        spill.close()
        fetched.close()


def _all_pairs(n: int) -> NDArray[np.int64]:
    """Every pair of n documents (``--exact``)."""
    a, b = np.triu_indices(n, k=1)
    return np.stack([a, b], axis=1).astype(np.int64)


def _text_or_empty(text_of: Callable[[int], str | None]) -> Callable[[int], str]:
    """A reader for the exact check and the evidence: a text that changed since hashing is
    empty there (the ranking stage then skips its document as changed)."""
    return lambda i: text_of(i) or ""


def _verify(
    pairs: NDArray[np.int64], shingles: ShingleSets, config: ScanConfig, text_of: verify.Layouts,
    progress: Progress,
) -> list[Match]:  # fmt: skip
    """``verify.verify`` a slice of pairs at a time, with progress (each pair is judged alone)."""
    matches: list[Match] = []
    for at in range(0, len(pairs), VERIFY_STEP):
        part = pairs[at : at + VERIFY_STEP]
        matches.extend(verify.verify(part, shingles, config, text_of))
        progress.advance(len(part))
    return matches


def _summary(
    sources: list[SourceFile], skipped: list[Skipped], documents: int, clusters: Sequence[Any], candidates: int,
    matches: int,
) -> Summary:  # fmt: skip
    """The counts of a run; a file counts as read unless it was skipped whole."""
    rels = {src.rel for src in sources}
    files = len(sources) - len({s.rel for s in skipped if s.reason in _FILE_LEVEL and s.rel in rels})
    duplicates = [m for c in clusters for m in c.members if m.dropped]  # supersets stay
    return Summary(
        files=files,
        documents=documents,
        skipped=len(skipped),
        clusters=len(clusters),
        duplicates=len(duplicates),
        bytes_saved=sum(m.saved for m in duplicates),  # a link or standard input frees nothing
        candidates=candidates,
        matches=matches,
    )
