"""Signatures equal datasketch 2.x MinHash (scheme affine32) given our shingle hash."""

from __future__ import annotations

import datasketch
import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.shingle import hash_shingle32, shingle_batch, shingle_strings
from dedup.signature import EMPTY, SCHEME, permutations, signatures


def datasketch_minhash(text: str, num_perm: int = 128, seed: int = 1) -> MinHash:
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=hash_shingle32, scheme="affine32")
    m.update_batch([s.encode("utf-8") for s in shingle_strings(text)])
    return m


def test_datasketch_version_and_scheme() -> None:
    assert datasketch.__version__.startswith("2.")
    assert SCHEME == "affine32"
    assert MinHash().scheme == SCHEME  # datasketch 2.x's default


def test_permutations_are_datasketchs() -> None:
    a, b = permutations(128, 7)
    ref = MinHash(num_perm=128, seed=7).permutations
    assert np.array_equal(a, ref[0]) and np.array_equal(b, ref[1])


def test_rows_equal_datasketch_on_samples(sample_texts: dict[str, str]) -> None:
    texts = [*sample_texts.values(), "two words", "中文文本测试没有空格的句子"]
    sigs = signatures(shingle_batch(texts), 128, 1)
    for i, text in enumerate(texts):
        assert np.array_equal(sigs.matrix[i], datasketch_minhash(text).hashvalues)


def test_rows_load_into_datasketch_lsh(sample_texts: dict[str, str]) -> None:
    names = list(sample_texts)
    sigs = signatures(shingle_batch(list(sample_texts.values())), 128, 1)
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    for name, row in zip(names, sigs.matrix, strict=True):
        lsh.insert(name, LeanMinHash(seed=1, hashvalues=row, scheme="affine32"))
    query = datasketch_minhash(sample_texts[names[0]])
    assert names[0] in lsh.query(query)
    lean = LeanMinHash(seed=1, hashvalues=sigs.matrix[1], scheme="affine32")
    assert lean.jaccard(LeanMinHash(query)) == sigs.jaccard(0, 1)


def test_empty_document_row_is_all_empty() -> None:
    sigs = signatures(shingle_batch(["", "a b c d e"]), 16, 1)
    assert (sigs.matrix[0] == EMPTY).all()
    assert not (sigs.matrix[1] == EMPTY).all()


@settings(max_examples=60)
@given(st.integers(0, 2**32 - 1), st.integers(1, 64))
def test_any_seed_and_width_match_datasketch(seed: int, num_perm: int) -> None:
    text = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu"
    sigs = signatures(shingle_batch([text]), num_perm, seed)
    assert np.array_equal(sigs.matrix[0], datasketch_minhash(text, num_perm, seed).hashvalues)


words = st.sampled_from([f"w{i}" for i in range(60)])


@settings(max_examples=60)
@given(st.lists(words, min_size=30, max_size=120), st.lists(words, min_size=30, max_size=120))
def test_estimate_is_close_to_exact_jaccard(a: list[str], b: list[str]) -> None:
    sa, sb = set(shingle_strings(" ".join(a), 2)), set(shingle_strings(" ".join(b), 2))
    exact = len(sa & sb) / len(sa | sb)
    sigs = signatures(shingle_batch([" ".join(a), " ".join(b)], 2), 256, 1)
    # 256 slots: standard error <= 0.032; 5 standard errors bounds a flaky failure to ~1e-6.
    assert abs(sigs.jaccard(0, 1) - exact) <= 0.16
