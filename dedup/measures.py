"""Measures between documents for the evaluation: character n-grams, the scan's own pair
measures, and what the candidates missed against an exhaustive comparison.

``dedup eval`` shows these next to each listed mistake; ``evaluate.py`` re-exports them.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from . import verify
from .config import ScanConfig
from .extract import load_text
from .shingle import shingle_batch

if TYPE_CHECKING:
    from .records import ScanResult

#: ``pair_scores(id_a, id_b) -> (jaccard, containment)``, shown next to each listed mistake.
#: With five values, also (share of a inside b, share of b inside a, the rule that joins them).
PairScores = Callable[[str, str], tuple[float, float] | tuple[float, float, float, float, str]]
#: ``similarity(id_a, id_b) -> float``: word 5-gram Jaccard of two documents' texts.
Similarity = Callable[[str, str], float]

#: Character n-gram length of ``char_ngram_jaccard``: 12 characters is two to three words, long
#: enough that two unrelated English texts share few n-grams, short enough that a glued pair of
#: words or a joined line breaks only the n-grams that span it.
CHAR_NGRAM = 12


def char_ngrams(text: str, n: int = CHAR_NGRAM) -> frozenset[str]:
    """The character n-grams of ``text`` with case, spacing and punctuation ignored.

    The text is NFKC-normalised and case-folded, and every character that is not a letter or
    a digit is removed (``str.isalnum``), so "Home." and "home" are one string and "it's" is
    "its". A text shorter than ``n`` is one n-gram (itself); an empty one has none.

    Example:
        >>> sorted(char_ngrams("A-b c!", 2))
        ['ab', 'bc']
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    kept = "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())
    if len(kept) <= n:
        return frozenset((kept,)) if kept else frozenset()
    return frozenset(kept[i : i + n] for i in range(len(kept) - n + 1))


def char_ngram_jaccard(a: str, b: str, n: int = CHAR_NGRAM) -> float:
    """Jaccard of two texts' ``char_ngrams``: 1.0 for texts equal but for case, spacing and
    punctuation; two texts with no letters or digits at all are equal (1.0).

    Example:
        >>> char_ngram_jaccard("Hello, World", "hello world!")
        1.0
        >>> char_ngram_jaccard("abcd", "abce", 3)  # {abc, bcd} vs {abc, bce}
        0.3333333333333333
    """
    return set_jaccard(char_ngrams(a, n), char_ngrams(b, n))


def set_jaccard(x: frozenset[str], y: frozenset[str]) -> float:
    """Jaccard of two sets; two empty sets are equal (1.0)."""
    if not x and not y:
        return 1.0
    inter = len(x & y)
    return inter / (len(x) + len(y) - inter)


def text_similarity(result: ScanResult, config: ScanConfig, n: int = CHAR_NGRAM) -> Similarity:
    """``similarity(id_a, id_b)``: ``char_ngram_jaccard`` of two scanned documents' texts.

    Texts are re-read (as the scan extracted them: an HTML page is its visible text) only for
    the ids asked about, and their n-gram sets kept for the next call.
    """
    by_id = {d.doc_id: d for d in result.docs}
    grams: dict[str, frozenset[str]] = {}

    def of(doc_id: str) -> frozenset[str]:
        if doc_id not in grams:
            info = by_id[doc_id]
            grams[doc_id] = char_ngrams(load_text(info.locator, info.kind, config), n)
        return grams[doc_id]

    return lambda a, b: set_jaccard(of(a), of(b))


def pair_measures(
    result: ScanResult, config: ScanConfig
) -> Callable[[str, str], tuple[float, float, float, float, str]]:
    """``measure(id_a, id_b) -> (Jaccard, containment, share of a in b, share of b in a, rule)``
    on the documents' shingle sets; the rule is the one that joins them directly ("jaccard",
    "a inside b", "b inside a", as verify judges it, on the texts too), or "" when none does.

    For the evaluation report: texts are re-read (and kept) only for the ids asked about.
    """
    index = {d.doc_id: i for i, d in enumerate(result.docs)}
    sets: dict[str, NDArray[np.uint64]] = {}

    @functools.lru_cache(maxsize=64)
    def text_of(i: int) -> str:
        info = result.docs[i]
        return load_text(info.locator, info.kind, config)

    layouts = verify.Layouts(text_of, config)

    def shingles_of(doc_id: str) -> NDArray[np.uint64]:
        if doc_id not in sets:
            text = text_of(index[doc_id])
            sets[doc_id] = shingle_batch([text], config.shingle_size, config.char_shingle_size).get(0)
        return sets[doc_id]

    def measure(a: str, b: str) -> tuple[float, float, float, float, str]:
        x, y = shingles_of(a), shingles_of(b)
        inter = verify.overlap(x, y)
        jaccard, containment = verify.similarity(x, y)
        rule = verify.judge_texts(index[a], index[b], x, y, jaccard, containment, layouts, config)
        inside = "a inside b" if len(x) <= len(y) else "b inside a"
        rule_text = inside if rule == "containment" else rule or ""
        return jaccard, containment, inter / len(x) if len(x) else 0.0, inter / len(y) if len(y) else 0.0, rule_text

    return measure


def candidate_loss(result: ScanResult, exact: ScanResult) -> tuple[int, int]:
    """(verified pairs the exhaustive comparison found, of those the candidates missed)."""
    ids = [d.doc_id for d in result.docs]

    def pairs(r: ScanResult) -> set[tuple[str, str]]:
        return {(ids[m.a], ids[m.b]) for m in r.matches}

    reference = pairs(exact)
    return len(reference), len(reference - pairs(result))
