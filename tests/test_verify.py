from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from dedup.config import ScanConfig
from dedup.shingle import shingle_batch
from dedup.verify import judge, overlap, similarity, verify


def arr(values: set[int]) -> np.ndarray:
    return np.array(sorted(values), dtype=np.uint64)


def test_similarity_exact() -> None:
    assert similarity(arr({1, 2, 3, 4}), arr({3, 4, 5})) == (2 / 5, 2 / 3)
    assert similarity(arr(set()), arr({1})) == (0.0, 0.0)


def test_judge_rules_and_guards() -> None:
    cfg = ScanConfig(jaccard_threshold=0.7, containment_threshold=0.8, min_shingles=30, min_size_ratio=0.15)
    assert judge(0.75, 0.8, 100, 100, cfg) == "jaccard"
    assert judge(0.53, 0.998, 583, 1111, cfg) == "containment"  # samples 000 in 001
    assert judge(0.02, 1.0, 6, 1111, cfg) is None  # a comment widget inside a page
    assert judge(0.10, 1.0, 100, 1000, cfg) is None  # a quote: under min_size_ratio
    assert judge(0.5, 0.79, 500, 600, cfg) is None


def test_verify_on_samples(sample_texts: dict[str, str]) -> None:
    sh = shingle_batch(list(sample_texts.values()))
    pairs = np.array([[a, b] for a in range(5) for b in range(a + 1, 5)])
    matches = verify(pairs, sh, ScanConfig())
    assert [(m.a, m.b, m.rule) for m in matches] == [(0, 1, "containment")]
    assert 0.5 < matches[0].jaccard < 0.56 and matches[0].containment > 0.99


@given(st.sets(st.integers(0, 200)), st.sets(st.integers(0, 200)))
def test_containment_at_least_jaccard(x: set[int], y: set[int]) -> None:
    jac, con = similarity(arr(x), arr(y))
    assert con >= jac
    assert overlap(arr(x), arr(y)) == len(x & y)
