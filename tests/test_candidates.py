from __future__ import annotations

import numpy as np

from dedup.candidates import MAX_BUCKET, anchor_pairs, band_pairs, candidate_pairs, select_anchors
from dedup.config import ScanConfig
from dedup.shingle import shingle_batch
from dedup.signature import signatures

WORDS = [f"word{i}" for i in range(5000)]


def article(seed: int, n: int = 400) -> str:
    rng = np.random.default_rng(seed)
    return " ".join(rng.choice(WORDS, n))


def test_samples_pair_found_by_both_paths(sample_texts: dict[str, str]) -> None:
    texts = list(sample_texts.values())
    sh = shingle_batch(texts)
    sigs = signatures(sh)
    assert band_pairs(sigs, 32).tolist() == [[0, 1]]
    assert anchor_pairs(select_anchors(sh, 4), len(sh), 2, 64).tolist() == [[0, 1]]
    assert candidate_pairs(sigs, select_anchors(sh, 4), sh.sizes(), ScanConfig()).tolist() == [[0, 1]]


def test_contained_copy_found_by_anchors_not_bands() -> None:
    body = article(1, 300)
    wrapper = " ".join([article(2, 600), body, article(3, 600)])  # Jaccard ~0.2
    texts = [body, wrapper, article(4)]
    sh = shingle_batch(texts)
    sigs = signatures(sh)
    assert [0, 1] in anchor_pairs(select_anchors(sh, 4), len(sh), 2, 64).tolist()
    assert [0, 1] in candidate_pairs(sigs, select_anchors(sh, 4), sh.sizes(), ScanConfig()).tolist()


def test_template_anchors_are_not_followed() -> None:
    template = article(99, 200)
    pages = [template + " " + article(i, 40) for i in range(80)]
    sh = shingle_batch(pages)
    # Every page shares the template's anchors, but 80 > max_anchor_docs: no pairs.
    assert len(anchor_pairs(select_anchors(sh, 4), len(sh), 2, 64)) == 0
    assert len(anchor_pairs(select_anchors(sh, 4), len(sh), 2, 100)) > 0


def test_big_buckets_are_chained_not_squared() -> None:
    n = MAX_BUCKET + 50
    sh = shingle_batch([article(7)] * n)
    pairs = band_pairs(signatures(sh), 32)
    assert len(pairs) == 2 * n - 3  # consecutive pairs plus each to the first, deduplicated
    assert {0, n - 1} <= set(pairs.ravel().tolist())


def test_pairs_sorted_unique_and_ordered() -> None:
    texts = [article(1), article(2), article(1), article(1)]
    sh = shingle_batch(texts)
    pairs = candidate_pairs(signatures(sh), select_anchors(sh, 4), sh.sizes(), ScanConfig())
    assert pairs.tolist() == [[0, 2], [0, 3], [2, 3]]


def test_empty_documents_never_pair() -> None:
    sh = shingle_batch(["", "", "a b c d e f"])
    assert len(candidate_pairs(signatures(sh), select_anchors(sh, 4), sh.sizes(), ScanConfig())) == 0


def test_anchors_joined_from_batches_equal_anchors_of_the_whole(sample_texts: dict[str, str]) -> None:
    from dedup.candidates import Anchors

    texts = list(sample_texts.values())
    whole = select_anchors(shingle_batch(texts), 4)
    parts = [select_anchors(shingle_batch(texts[:2]), 4), select_anchors(shingle_batch(texts[2:]), 4)]
    joined = Anchors.join(parts, [2, 3])
    assert np.array_equal(joined.hashes, whole.hashes) and np.array_equal(joined.docs, whole.docs)
    assert parts == []  # each part is dropped once copied
