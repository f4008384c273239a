"""A Ray scan's hashing tasks leave their signature rows and anchors in Ray's object store
(dedup/kept.py, hashing.hash_split, RayEngine.map_keeping): the run's process gets handles,
never the arrays; the candidate stage reads them where they lie, applies the signature filter
in its reduce tasks (ray_candidates.finish_pairs), and gives the embedded engine's pairs,
with a progress bar whose total is the stage's tasks. A local Ray with 2 CPUs for the module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import started_ray

from dedup import read
from dedup.candidates import candidate_pairs, select_anchors
from dedup.config import ScanConfig
from dedup.corpus import generate
from dedup.engine import make_engine
from dedup.hashing import Hashing, collect
from dedup.kept import KeptPairs
from dedup.options import RunOptions
from dedup.progress import NoProgress
from dedup.records import SourceFile
from dedup.runcache import RunCache
from dedup.shingle import shingle_batch
from dedup.signature import signatures
from dedup.spill import SpillFolder

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'dedup[ray]')")
from dedup import ray_candidates  # noqa: E402  (needs ray)


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    with started_ray():
        yield


class Bars:
    """A Progress that records what it is told."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, int | None]] = []
        self.done: dict[str, int] = {}

    def start(self, stage: str, total: int | None) -> None:
        self.stages.append((stage, total))
        self.done[stage] = 0

    def advance(self, n: int = 1) -> None:
        self.done[self.stages[-1][0]] += n


def texts(seed: int) -> list[str]:
    """Articles with edited, wrapped and cut copies, spread over the whole range of documents."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(2000)]
    out: list[str] = []
    for _ in range(80):
        art = [str(w) for w in rng.choice(words, int(rng.integers(60, 300)))]
        out.append(" ".join(art))
        out.append(" ".join([str(w) for w in rng.choice(words, 150)] + art))
        out.append(" ".join(art[: len(art) * 3 // 4]))
    out += ["", "short text", "short text"]
    return [out[i] for i in rng.permutation(len(out)).tolist()]


@pytest.mark.parametrize("rows", [7, 64, 10_000])
def test_pairs_from_blocks_with_the_filter_in_the_tasks_are_the_embedded_engines(rows: int) -> None:
    sh = shingle_batch(texts(rows))
    config = ScanConfig()
    sigs, anchors = signatures(sh), select_anchors(sh, config.anchor_bits)
    local = candidate_pairs(sigs, anchors, sh.sizes(), config)
    blocks = ray_candidates.blocks_of(sigs, anchors, rows)
    assert len(blocks) == -(-len(sh) // rows)
    done: list[int] = []
    on_ray = ray_candidates.pairs_of_blocks(ray, blocks, sh.sizes(), config, partitions=3, progress=done.append)
    assert len(local) > 100
    assert on_ray.tolist() == local.tolist()
    assert sum(done) == ray_candidates.stage_tasks(len(blocks), 3)


def test_the_filter_runs_in_the_tasks() -> None:
    """Copies that share half their text: the signature filter drops some of these pairs at
    the default thresholds (not at loose ones), and the tasks drop the same ones."""
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(5000)]
    docs: list[str] = []
    for _ in range(60):
        art = [str(w) for w in rng.choice(words, 300)]
        docs += [" ".join(art), " ".join(art[:150] + [str(w) for w in rng.choice(words, 150)])]
    sh = shingle_batch(docs)
    config = ScanConfig()
    sigs, anchors = signatures(sh), select_anchors(sh, config.anchor_bits)
    loose = candidate_pairs(sigs, anchors, sh.sizes(), ScanConfig(jaccard_threshold=0.16, containment_threshold=0.31))
    local = candidate_pairs(sigs, anchors, sh.sizes(), config)
    assert 0 < len(local) < len(loose)
    blocks = ray_candidates.blocks_of(sigs, anchors, 50)
    assert ray_candidates.pairs_of_blocks(ray, blocks, sh.sizes(), config, partitions=2).tolist() == local.tolist()


def test_hashing_tasks_leave_rows_and_anchors_in_the_object_store(tmp_path: Path) -> None:
    root = tmp_path / "c"
    generate(root, seed=1)
    config = ScanConfig(jobs=2)
    options = RunOptions(files_per_task=40)
    sources = [s for s in read.walk([root], config) if isinstance(s, SourceFile)]
    assert len(sources) > 3 * options.files_per_task

    local = Hashing(config, options, RunCache(None, config, []))
    local.look_up(sources)
    spill = SpillFolder()
    with make_engine("local", 2) as engine:
        here = collect(local.run(engine, spill, NoProgress()), sources, config, options)
    assert here.kept is None and here.signatures is not None and here.anchors is not None

    hashing = Hashing(config, options, RunCache(None, config, []))
    hashing.look_up(sources)
    spill_ray = SpillFolder()
    try:
        with make_engine("ray", 2) as engine:
            kept = collect(hashing.run(engine, spill_ray, NoProgress()), sources, config, options)
            assert kept.signatures is None and kept.anchors is None and kept.kept is not None
            assert len(kept.kept.items) > 3
            for item in kept.kept.items:  # handles, not arrays
                assert isinstance(item.matrix, ray.ObjectRef) and isinstance(item.anchors, ray.ObjectRef)
            sigs, anchors = kept.kept.gather()
            assert np.array_equal(sigs.matrix, here.signatures.matrix)
            assert np.array_equal(anchors.hashes, here.anchors.hashes)
            assert np.array_equal(anchors.docs, here.anchors.docs)
            blocks = sum(1 for count in kept.kept.counts if count)
            bars = Bars()
            find = engine.candidate_pairs  # type: ignore[attr-defined]
            parts = kept.candidate_pairs(config, lambda *a: find(*a, progress=bars))
            assert kept.kept is None  # let go after the stage
            assert isinstance(parts, KeptPairs)  # left in the object store: counts here
            assert all(isinstance(p, ray.ObjectRef) for p in parts.parts)
            pairs = parts.gather()
        expected = here.candidate_pairs(config)
        assert isinstance(expected, np.ndarray)
        assert len(expected) > 0 and len(parts) == len(expected) and pairs.tolist() == expected.tolist()
        [(stage, total)] = bars.stages
        assert stage == "finding candidates" and total == ray_candidates.stage_tasks(blocks, 4)
        assert bars.done[stage] == total
    finally:
        spill_ray.close()


@pytest.mark.slow
def test_a_cached_scan_on_ray_mixes_cached_and_kept_batches(tmp_path: Path) -> None:
    """Fresh batches on Ray are stored in the signature cache with their rows fetched; a later
    scan serves those files from the cache (arrays here) and hashes the new ones on Ray (arrays
    kept there), and gives the exports of a local scan without a cache."""
    from dedup import __version__, export, scan

    root = tmp_path / "c"
    generate(root / "a", seed=1)
    generate(root / "b", seed=2)
    cache = tmp_path / "cache.sqlite"
    config = ScanConfig(jobs=2)
    on_ray = RunOptions(engine="ray", files_per_task=40)

    def exported(result: object, name: str) -> bytes:
        out = tmp_path / name
        export.write_export(result, out, version=__version__)  # type: ignore[arg-type]
        return out.read_bytes()

    first = scan([root / "a"], config, cache=cache, options=on_ray)
    assert exported(first, "a-ray.json") == exported(scan([root / "a"], config), "a-local.json")
    both = scan([root], config, cache=cache, options=on_ray)
    assert exported(both, "ray.json") == exported(scan([root], config), "local.json")
    assert both.summary.clusters > first.summary.clusters > 0
