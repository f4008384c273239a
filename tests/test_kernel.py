"""The compiled kernel (dedup._kernel) equals the NumPy path and the plain-Python definition.

Every array of ``Shingles`` and every signature row must be bit-identical across the three.
Skipped when the extension is not built (``pip install -e .`` or
``python setup.py build_ext --inplace`` builds it); set ``DEDUP_REQUIRE_KERNEL=1`` to make
a missing build fail instead.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup import kernel
from dedup.shingle import (
    MAX_SHINGLE_SIZE,
    SHORT_LINE_TOKENS,
    Shingles,
    hash_shingle,
    line_hash,
    shingle_batch,
    shingle_strings,
    tokens,
)
from dedup.signature import EMPTY, permutations, signatures
from dedup.tokens import QUOTES, SEP, classify


def test_kernel_is_built_when_required() -> None:
    if os.environ.get("DEDUP_REQUIRE_KERNEL") == "1":
        assert kernel.built(), "DEDUP_REQUIRE_KERNEL=1 but dedup._kernel is not importable"


needs_kernel = pytest.mark.skipif(
    not kernel.built(), reason="dedup._kernel is not built (pip install -e . or python setup.py build_ext --inplace)"
)


@contextmanager
def numpy_path() -> Iterator[None]:
    """Force the NumPy path for the duration (DEDUP_NO_KERNEL=1)."""
    saved = os.environ.get("DEDUP_NO_KERNEL")
    os.environ["DEDUP_NO_KERNEL"] = "1"
    try:
        yield
    finally:
        if saved is None:
            del os.environ["DEDUP_NO_KERNEL"]
        else:
            os.environ["DEDUP_NO_KERNEL"] = saved


def run_both(
    texts: list[str], k: int, char_k: int, num_perm: int = 16, seed: int = 1
) -> tuple[tuple[Shingles, np.ndarray], tuple[Shingles, np.ndarray]]:
    assert kernel.available()
    sh = shingle_batch(texts, k, char_k)
    fast = (sh, signatures(sh, num_perm, seed).matrix)
    with numpy_path():
        assert not kernel.available()
        sh = shingle_batch(texts, k, char_k)
        slow = (sh, signatures(sh, num_perm, seed).matrix)
    return fast, slow


def assert_identical(fast: tuple[Shingles, np.ndarray], slow: tuple[Shingles, np.ndarray]) -> None:
    for field in ("offsets", "hashes", "words", "line_hashes", "line_docs"):
        a, b = getattr(fast[0], field), getattr(slow[0], field)
        assert a.dtype == b.dtype, field
        assert a.shape == b.shape, field
        assert np.array_equal(a, b), field
    assert fast[1].dtype == slow[1].dtype
    assert fast[1].shape == slow[1].shape
    assert np.array_equal(fast[1], slow[1])


def _fmix32(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)


def reference_row(hashes: list[int], num_perm: int, seed: int) -> list[int]:
    """datasketch affine32 in plain Python integers."""
    a, b = permutations(num_perm, seed)
    xs = [_fmix32(h & 0xFFFFFFFF) for h in hashes]
    return [
        min(((ai * x + bi) & 0xFFFFFFFF for x in xs), default=int(EMPTY))
        for ai, bi in zip(a.tolist(), b.tolist(), strict=True)
    ]


def assert_matches_reference(
    texts: list[str], sh: Shingles, matrix: np.ndarray, k: int, char_k: int, seed: int
) -> None:
    num_perm = matrix.shape[1]
    for i, text in enumerate(texts):
        ref = sorted({hash_shingle(s) for s in shingle_strings(text, k, char_k)})
        assert sh.get(i).tolist() == ref
        assert int(sh.words[i]) == len(tokens(text))
        lines = sorted({h for h in (line_hash(line) for line in text.split("\n")) if h is not None})
        assert sh.line_hashes[sh.line_docs == i].tolist() == lines
        assert matrix[i].tolist() == reference_row(ref, num_perm, seed)


# Code points of every kind of character the classes and folding treat differently: ASCII,
# Latin-1 and other accented letters, a combining mark, case-fold expansions, compatibility
# forms, Cyrillic, Greek, Arabic, Hangul, CJK (also beyond the BMP), kana, Thai, emoji, curly
# quotes and dashes, separators of all sorts (NEL, U+2028, NBSP, ZWJ, tabs) and lone surrogates.
_CHARS = [
    *"abcxyzABC0189 ,.;:!?'\"-_()<>/&#@\t\n\r",
    *"éÄñçøß\u0301İﬁＡ²Ⅻ½",
    *"ДжяΣςع한국어",
    *"中文本字跳𠀀あカナไทยພາສາ",
    "\U0001f600",
    *"‘’“”–—«»′″−",
    "\x85",
    "\u2028",
    "\xa0",
    "\u200d",
    "\ud800",
    "\udfff",
]
_WORDS = ["the", "quick", "Brown", "fox", "naïve", "café", "STRASSE", "中文", "ภาษาไทย", "слово", "x1", "42"]
_piece = st.one_of(st.sampled_from(_CHARS), st.sampled_from(_WORDS).map(lambda w: w + " "))
_texts = st.lists(st.lists(_piece, max_size=60).map("".join), min_size=0, max_size=6)
_sizes = st.one_of(st.integers(1, 8), st.integers(1, MAX_SHINGLE_SIZE))


@needs_kernel
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_texts, _sizes, _sizes, st.sampled_from([1, 7, 32, 33, 128, 200, 256]), st.integers(0, 2**32 - 1))
def test_kernel_equals_numpy_and_reference(texts: list[str], k: int, char_k: int, num_perm: int, seed: int) -> None:
    fast, slow = run_both(texts, k, char_k, num_perm, seed)
    assert_identical(fast, slow)
    assert_matches_reference(texts, fast[0], fast[1], k, char_k, seed)


@needs_kernel
@pytest.mark.parametrize(("k", "char_k"), [(5, 5), (1, 1), (3, 2), (9, 4), (64, 64)])
def test_samples(sample_texts: dict[str, str], k: int, char_k: int) -> None:
    texts = list(sample_texts.values())
    fast, slow = run_both(texts, k, char_k, 128, 1)
    assert_identical(fast, slow)
    assert_matches_reference(texts, fast[0], fast[1], k, char_k, 1)


@needs_kernel
def test_edge_documents() -> None:
    texts = [
        "",
        " \n\n \t",
        "one",
        "a b",
        "\ud800",
        "中文文本测试没有空格的句子",
        "a " * 5000,  # all shingles equal: the sort's fallback for inputs that do not spread
        "x" * 70 + " " + "y" * 200,  # words longer than the kernel's power table
        "line one\n" * 50 + "\n".join(f"w{i}" for i in range(30)),
        " ".join(["w"] * (SHORT_LINE_TOKENS + 1)) + "\n" + " ".join(["w"] * SHORT_LINE_TOKENS),
        "It’s “Quoted” — fine\x85next\u2028line",
    ]
    for k, char_k in [(5, 5), (5, 2), (1, 64), (64, 1)]:
        fast, slow = run_both(texts, k, char_k, 7, 3)
        assert_identical(fast, slow)
        assert_matches_reference(texts, fast[0], fast[1], k, char_k, 3)


@needs_kernel
def test_empty_batch() -> None:
    fast, slow = run_both([], 5, 5, 128, 1)
    assert_identical(fast, slow)
    assert fast[0].offsets.tolist() == [0]
    assert fast[1].shape == (0, 128)


@needs_kernel
def test_large_documents_equal_numpy() -> None:
    rng = np.random.default_rng(7)
    vocab = [f"w{i}" for i in range(3000)]
    big = " ".join(vocab[i] for i in rng.integers(0, len(vocab), 300_000))  # ~1.7M chars, one line
    lines = "\n".join(" ".join(vocab[i] for i in rng.integers(0, 50, 6)) for _ in range(20_000))
    fast, slow = run_both([big, lines, "中" * 100_000], 5, 3, 128, 1)
    assert_identical(fast, slow)
    assert len(fast[0].get(0)) > 250_000


@needs_kernel
def test_token_longer_than_numpy_chunk() -> None:
    # The NumPy path hashes in chunks of 2**20 code points cut at separators; a single token
    # longer than that is the one input where the chunked path cannot cut cleanly. The
    # kernel follows the definition (hash_token) there.
    word = "ab" * ((1 << 19) + 3)
    sh = shingle_batch([word, "pre " + word + " post"], 5, 5)
    # hash_shingle is the definition: a shingle's tokens joined by one space, hashed by token.
    assert sh.get(0).tolist() == [hash_shingle(word)]
    assert sh.get(1).tolist() == [hash_shingle("pre " + word + " post")]


@needs_kernel
def test_fills_a_fresh_class_table_by_blocks() -> None:
    table = np.full(0x110000, 255, dtype=np.uint8)
    table[:128] = [classify(cp) for cp in range(128)]
    texts = ["Привет, мир! 中文 ไทย é \U0001f600 \ud800 한국어", "plain ascii"]
    got = kernel.shingle_batch(texts, 5, 2, table=table)
    expected = kernel.shingle_batch(texts, 5, 2)
    for field in ("offsets", "hashes", "words", "line_hashes", "line_docs"):
        assert np.array_equal(getattr(got, field), getattr(expected, field))
    filled = np.flatnonzero(table != 255)
    assert len(filled) > 128
    assert all(table[cp] == classify(cp) for cp in filled.tolist())
    # Whole 256-code-point blocks are filled, and the batch's every code point.
    assert {cp >> 8 for cp in filled.tolist() if cp >= 128} == {ord(c) >> 8 for c in "".join(texts) if ord(c) >= 128}


@needs_kernel
def test_threads_give_the_same_results() -> None:
    texts = [f"document {i} " + "some shared words here and there " * (i % 7 + 1) for i in range(300)]
    expected = signatures(shingle_batch(texts), 128, 1).matrix
    results: list[np.ndarray] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(5):
            m = signatures(shingle_batch(texts), 128, 1).matrix
            with lock:
                results.append(m)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 15
    assert all(np.array_equal(m, expected) for m in results)


@needs_kernel
def test_outputs_are_writable_arrays() -> None:
    sh = shingle_batch(["a b c d e f g", "x"])
    for field in ("offsets", "hashes", "words", "line_hashes", "line_docs"):
        assert getattr(sh, field).flags.writeable
    assert signatures(sh).matrix.flags.writeable


@needs_kernel
def test_switch_and_compatibility(monkeypatch: pytest.MonkeyPatch) -> None:
    assert kernel.compatible()
    assert kernel.minhash_isa() in ("avx2", "sse4.1", "generic")
    # The kernel skips `QUOTES`: allowed only because it maps separators to separators.
    for src, dst in QUOTES.items():
        assert classify(src) == SEP and classify(ord(str(dst))) == SEP
    monkeypatch.setenv("DEDUP_NO_KERNEL", "1")
    assert not kernel.available()
    monkeypatch.setenv("DEDUP_NO_KERNEL", "0")
    assert kernel.available()


@needs_kernel
def test_bad_input_is_rejected() -> None:
    with pytest.raises(TypeError):
        kernel.shingle_batch(["ok", b"bytes"], 5, 5)  # type: ignore[list-item]  # bytes on purpose: the kernel rejects them
    sh = shingle_batch(["a b c d e f", "g h i j k l"])
    a, b = permutations(8, 1)
    bad = Shingles(np.array([0, 5, 2], np.int64), sh.hashes, sh.words, sh.line_hashes, sh.line_docs)
    with pytest.raises(ValueError):
        kernel.minhash(bad, a, b)
    beyond = Shingles(np.array([0, 1, len(sh.hashes) + 1], np.int64), sh.hashes, sh.words, sh.line_hashes, sh.line_docs)
    with pytest.raises(ValueError):
        kernel.minhash(beyond, a, b)
