"""Line token counts from one pass over a whole text (``linecounts.line_counts``) are the
tokens of each line counted alone, for ASCII and other text, mojibake (which the fold
repairs line by line), compatibility forms that NFKC rewrites, combining marks at a line's
start, unspaced scripts and lone surrogates; and a big text costs time linear in its size."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.linecounts import line_counts
from dedup.shingle import tokens

_PIECES = st.sampled_from(
    ["word", "Wörd", "naïve", "ÃƒÂ©", "Ã©t", "â€™s", "ﬁne", "①②", "ＡＢＣ", "\u0301", "e\u0301", "東京都", "ラーメン",
     "ไทย", "\udce9", "\u2028", "\u0085", "\r", "\t", " ", "  ", "-", "'", "’", "…", ".", "\n", "\n\n", "3", "x2"]
)  # fmt: skip
_TEXTS = st.lists(_PIECES | st.text(max_size=6), max_size=40).map("".join)


def _expected(text: str) -> list[int]:
    return [len(tokens(line)) if line.strip() else 0 for line in text.split("\n")]


@given(_TEXTS)
@settings(max_examples=400, deadline=None)
def test_line_counts_of_any_text_are_the_tokens_of_each_line(text: str) -> None:
    assert line_counts(text) == _expected(text)


def test_a_text_with_mojibake_on_some_lines_counts_them_as_the_fold_repairs_them() -> None:
    text = "Plain café line\nThe cafÃ© and itâ€™s done\n東京 ＡＢＣ ﬁne\n\n\u0301accent"
    assert line_counts(text) == _expected(text) == [3, 6, 4, 0, 1]


def _seconds(text: str) -> float:
    start = time.perf_counter()
    line_counts(text)
    return time.perf_counter() - start


def test_a_big_non_ascii_text_costs_time_linear_in_its_size() -> None:
    # Counted line by line, 2 MB of short non-ASCII lines took seconds (a NumPy pass a line).
    line = "Über den Fluß 東京 naïve words\n"
    small, big = line * 2_000, line * 40_000  # 66 KB and 1.3 MB
    assert line_counts(small) == _expected(small)
    per_small = min(_seconds(small) for _ in range(3)) / len(small)
    per_big = min(_seconds(big) for _ in range(3)) / len(big)
    assert per_big < 3 * per_small + 1e-8
    assert min(_seconds(big) for _ in range(3)) < 1.0


def test_membership_asked_in_sorted_order_is_plain_membership() -> None:
    import numpy as np

    from dedup.lookup import member_sorted

    rng = np.random.default_rng(5)
    for n in (1, 7, 300, 5000):
        pool = rng.integers(0, 2**64 - 1, 2 * n, dtype=np.uint64)
        sorted_set = np.unique(rng.choice(pool, n))
        values = rng.choice(pool, 3 * n)  # repeats, and values below and above the set
        values[: min(3, len(values))] = [0, 2**64 - 1, sorted_set[-1]][: min(3, len(values))]
        assert member_sorted(values, sorted_set).tolist() == np.isin(values, sorted_set).tolist()
