"""The candidate pairs stay in Ray's object store between the candidate and verify stages
(dedup/kept.py ``KeptPairs``, ray_candidates.pair_parts, ray_verify.verify_parts): the last
reduce tasks leave each partition of pair codes there and send only its count; the verify
tasks read their partition there and the sets from the spill files, and the matches are the
embedded engine's. A local Ray with 2 CPUs for the module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import started_ray
from test_ray_faults import Killer, raylet_pid
from test_ray_stages import corpus, spilled

from dedup import verify as local_verify
from dedup.candidates import MAX_BUCKET, candidate_pairs, select_anchors
from dedup.config import ScanConfig
from dedup.kept import KeptPairs, as_array
from dedup.shingle import shingle_batch
from dedup.signature import signatures
from dedup.spill import ShingleStore, SpilledShingles

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'dedup[ray]')")
from dedup import ray_candidates, ray_verify  # noqa: E402  (needs ray)


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    with started_ray():
        yield


@pytest.mark.parametrize("partitions", [2, 3])
def test_the_pairs_stay_in_the_object_store_partitioned_by_pair(partitions: int) -> None:
    sh = shingle_batch(corpus(4))
    config = ScanConfig(max_anchor_docs=40)
    sigs, anchors = signatures(sh), select_anchors(sh, config.anchor_bits)
    local = candidate_pairs(sigs, anchors, sh.sizes(), config)
    assert len(local) > 2 * MAX_BUCKET
    blocks = ray_candidates.blocks_of(sigs, anchors, rows=97)
    parts = ray_candidates.pair_parts(ray, blocks, sh.sizes(), config, partitions=partitions)
    assert isinstance(parts, KeptPairs) and parts.n == len(sh)
    assert len(parts.parts) == partitions and all(isinstance(p, ray.ObjectRef) for p in parts.parts)
    assert len(parts) == len(local) and sum(parts.counts) == len(local)
    for k, (ref, count) in enumerate(zip(parts.parts, parts.counts, strict=True)):
        codes = ray.get(ref)
        assert len(codes) == count and (codes % partitions == k).all() and (np.diff(codes) > 0).all()
    assert as_array(parts).tolist() == local.tolist()
    assert as_array(local) is local


def test_a_run_of_one_document_leaves_no_pairs() -> None:
    sh = shingle_batch(["one lone document of a few words"])
    config = ScanConfig()
    blocks = ray_candidates.blocks_of(signatures(sh), select_anchors(sh, config.anchor_bits))
    parts = ray_candidates.pair_parts(ray, blocks, sh.sizes(), config, partitions=4)
    assert len(parts) == 0 and parts.gather().shape == (0, 2)


@pytest.mark.parametrize("seed", [3, 5])
def test_verify_tasks_read_their_pairs_where_they_lie(seed: int, tmp_path: Path) -> None:
    texts = corpus(seed)
    sh = shingle_batch(texts)
    sets = spilled(sh, tmp_path)
    config = ScanConfig(max_anchor_docs=40)
    sigs, anchors = signatures(sh), select_anchors(sh, config.anchor_bits)
    pairs = candidate_pairs(sigs, anchors, sh.sizes(), config)
    local = local_verify.verify(pairs, sh, config, local_verify.Layouts(lambda i: texts[i], config))
    assert len(local) > 0 and len(local) < len(pairs)  # some pairs fail the exact check

    places = ray_verify.places_of(sets)
    assert places is not None and len(places.paths) == 2 and len(places.sizes) == len(sh)
    parts = ray_candidates.pair_parts(ray, ray_candidates.blocks_of(sigs, anchors), sh.sizes(), config, partitions=3)
    counted: list[int] = []
    on_ray = ray_verify.verify_parts(
        ray, parts, places, sets, config, local_verify.Layouts(lambda i: texts[i], config), progress=counted.append
    )
    assert on_ray == local
    assert sorted(counted) == sorted(c for c in parts.counts if c) and sum(counted) == len(pairs)


def test_sets_held_in_memory_have_no_places() -> None:
    """Sets the run's process holds cannot be read by a task: the engine brings the pairs
    here and verifies them joined by document instead."""
    sh = shingle_batch(corpus(0)[:20])
    assert ray_verify.places_of(sh) is None
    store = ShingleStore(spill_hashes=10)  # past 10 hashes: this process's unnamed file
    store.add(sh)
    unnamed = store.finish()
    assert isinstance(unnamed, SpilledShingles) and ray_verify.places_of(unnamed) is None


@pytest.mark.slow
def test_a_worker_killed_in_a_verify_task_is_retried_and_the_matches_are_unchanged(tmp_path: Path) -> None:
    """Every pair of ~600 documents, two partitions: each task measures ~90,000 pairs, long
    enough for the watcher to find its worker (titled ``ray::measure_codes``) and kill it."""
    texts = corpus(6) + corpus(7)
    sh = shingle_batch(texts)
    sets = spilled(sh, tmp_path)
    config = ScanConfig()
    n = len(sh)
    a, b = np.triu_indices(n, k=1)
    codes = a.astype(np.int64) * n + b
    parts = KeptPairs(
        n, tuple(ray.put(codes[codes % 2 == k]) for k in range(2)), tuple(int((codes % 2 == k).sum()) for k in range(2)),
        ray.get,
    )  # fmt: skip
    local = local_verify.verify(np.stack([a, b], axis=1).astype(np.int64), sh, config, None)
    places = ray_verify.places_of(sets)
    assert places is not None
    killer = Killer(raylet_pid(), ("measure_codes",))
    killer.start()
    try:
        on_ray = ray_verify.verify_parts(ray, parts, places, sets, config, None)
    finally:
        killer.done.set()
        killer.join()
    assert killer.killed == ["ray::measure_codes"], "no verify task was running"
    assert on_ray == local and len(local) > 100
