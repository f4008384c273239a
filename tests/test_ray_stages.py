"""The candidate and verify stages on Ray (dedup/ray_candidates.py, dedup/ray_verify.py) give
the embedded engine's pairs and matches: banding and anchors as shuffles by key (big buckets
chained, template anchors dropped, empty documents never paired, min_anchors summed across
partitions), the exact measure in tasks joined by document; and a scan on Ray runs them. A
local Ray with 2 CPUs for the module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import started_ray

from dedup import verify as local_verify
from dedup.candidates import MAX_BUCKET, candidate_pairs, select_anchors
from dedup.config import ScanConfig
from dedup.engine import FindsPairs, make_engine
from dedup.sets import Shingles
from dedup.shingle import shingle_batch
from dedup.signature import signatures
from dedup.spill import ShingleStore, SpilledShingles

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'dedup[ray]')")
from dedup import ray_candidates, ray_verify  # noqa: E402  (needs ray)

WORDS = [f"word{i}" for i in range(3000)]


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    with started_ray():
        yield


def article(rng: np.random.Generator, n: int) -> list[str]:
    return [str(w) for w in rng.choice(WORDS, n)]


def corpus(seed: int) -> list[str]:
    """Articles, edited copies, copies wrapped in chrome, cut copies, a big bucket of one text,
    pages of one template, empty and tiny documents: every path of the candidate stage."""
    rng = np.random.default_rng(seed)
    texts: list[str] = []
    template = article(rng, 150)
    for _ in range(60):
        words = article(rng, int(rng.integers(40, 400)))
        texts.append(" ".join(words))
        kind = rng.integers(0, 4)
        if kind == 0:  # light edits
            edited = list(words)
            for i in rng.integers(0, len(edited), 4).tolist():
                edited[i] = "edit"
            texts.append(" ".join(edited))
        elif kind == 1:  # wrapped in chrome
            texts.append(" ".join(article(rng, 200) + words + article(rng, 200)))
        elif kind == 2:  # cut short
            texts.append(" ".join(words[: len(words) * 2 // 3]))
        texts.append(" ".join(template + article(rng, 120)))  # one template, own text
    texts += [" ".join(article(rng, 300))] * (MAX_BUCKET + 30)  # one bucket over MAX_BUCKET
    texts += ["", "", "tiny text", "tiny text"]
    order = rng.permutation(len(texts))
    return [texts[i] for i in order.tolist()]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("partitions", [2, 5])
def test_candidate_pairs_on_ray_are_the_embedded_engines(seed: int, partitions: int) -> None:
    sh = shingle_batch(corpus(seed))
    config = ScanConfig(max_anchor_docs=40)
    sigs, anchors = signatures(sh), select_anchors(sh, config.anchor_bits)
    local = candidate_pairs(sigs, anchors, sh.sizes(), config)
    assert len(local) > 2 * MAX_BUCKET
    on_ray = ray_candidates.candidate_pairs(ray, sigs, anchors, sh.sizes(), config, partitions=partitions)
    assert on_ray.dtype == local.dtype
    assert on_ray.tolist() == local.tolist()


def test_small_and_empty_runs_have_no_pairs() -> None:
    for texts in ([], ["one text of some words"], ["", ""]):
        sh = shingle_batch(texts)
        pairs = ray_candidates.candidate_pairs(
            ray, signatures(sh), select_anchors(sh, 4), sh.sizes(), ScanConfig(), partitions=3
        )
        assert pairs.shape == (0, 2)


def test_verify_on_ray_gives_verifys_matches_in_order() -> None:
    texts = corpus(2)
    sh: Shingles = shingle_batch(texts)
    config = ScanConfig()
    pairs = candidate_pairs(signatures(sh), select_anchors(sh, config.anchor_bits), sh.sizes(), config)
    layouts = local_verify.Layouts(lambda i: texts[i], config)
    local = local_verify.verify(pairs, sh, config, layouts)
    assert 0 < len(local) < len(pairs)
    seen: list[int] = []
    on_ray = ray_verify.verify(
        ray, pairs, sh, config, local_verify.Layouts(lambda i: texts[i], config), ahead=2, progress=seen.append
    )
    assert on_ray == local
    assert sum(seen) == len(pairs)
    assert ray_verify.verify(ray, pairs[:0], sh, config, None, ahead=2) == []


def spilled(sh: Shingles, folder: Path) -> SpilledShingles:
    """The sets of ``sh`` in two named files, as two hashing workers leave them."""
    half = len(sh) // 2
    store = ShingleStore(spill_hashes=1 << 30)
    for k, part in enumerate((sh.slice(0, half), sh.slice(half, len(sh)))):
        path = folder / f"part-{k}.hashes"
        path.write_bytes(b"\0" * 16 + np.ascontiguousarray(part.hashes, np.uint64).tobytes())
        store.add(part, (str(path), 16))
    out = store.finish()
    assert isinstance(out, SpilledShingles)
    return out


def test_verify_on_ray_reads_spilled_sets_where_they_lie(tmp_path: Path) -> None:
    """Sets in named spill files (as the hashing workers leave them) go to the tasks as places,
    not copies, and the tasks' reads give verify's matches."""
    texts = corpus(3)
    sh: Shingles = shingle_batch(texts)
    sets = spilled(sh, tmp_path)
    config = ScanConfig()
    pairs = candidate_pairs(signatures(sh), select_anchors(sh, config.anchor_bits), sh.sizes(), config)
    docs = np.unique(pairs)
    block = ray_verify.make_block(sets, docs, local_files=True)
    assert len(block.hashes) == 0 and set(block.file.tolist()) == {0, 1}  # places only
    reader = block.reader()
    assert all(np.array_equal(reader(int(d)), sh.get(int(d))) for d in docs.tolist())
    reader.close()
    copied = ray_verify.make_block(sets, docs, local_files=False)
    assert len(copied.hashes) == int(sh.sizes()[docs].sum()) and (copied.file == -1).all()
    layouts = local_verify.Layouts(lambda i: texts[i], config)
    local = local_verify.verify(pairs, sh, config, layouts)
    on_ray = ray_verify.verify(
        ray, pairs, sets, config, local_verify.Layouts(lambda i: texts[i], config), ahead=2, local_files=True
    )
    assert on_ray == local and len(local) > 0


def test_the_ray_engine_offers_the_stages_and_the_local_engine_does_not() -> None:
    with make_engine("ray", 2) as engine:
        assert isinstance(engine, FindsPairs)
    with make_engine("local", 1) as engine:
        assert not isinstance(engine, FindsPairs)
