"""The cleanest copy: must / must-not on the samples and on copies made from them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from conftest import PLAIN, WRAPPED
from hypothesis import given
from hypothesis import strategies as st

from dedup.cleanest import features, penalty, rank
from dedup.config import ScanConfig

CFG = ScanConfig()


def no_corpus(h: int) -> int:
    return 0


def corpus_of(texts: list[str]) -> Callable[[int], int]:
    from dedup.shingle import line_hash

    counts: dict[int, int] = {}
    for t in texts:
        for h in {line_hash(ln) for ln in t.split("\n")} - {None}:
            assert h is not None
            counts[h] = counts.get(h, 0) + 1
    return lambda h: counts.get(h, 0)


def test_plain_beats_wrapped_sample_with_reasons(sample_texts: dict[str, str]) -> None:
    texts = [sample_texts[WRAPPED], sample_texts[PLAIN]]
    picks = rank([1, 0], texts, corpus_of(list(sample_texts.values())), CFG)
    assert [p.index for p in picks] == [0, 1]  # index 0 is the plain copy
    loser = " ".join(picks[1].reasons)
    assert "words outside the shared text" in loser
    assert "跳至主要内容" in loser  # the skip-to-content line counts against 001
    assert "teasers of other posts" in loser
    assert "truncated" not in loser  # a teaser's "..." is not a cut-off article
    assert picks[0].reasons[0].startswith("whole shared text")


def test_truncated_copy_loses_even_without_chrome(sample_texts: dict[str, str]) -> None:
    plain = sample_texts[PLAIN]
    cut = plain[: len(plain) // 2].rsplit(" ", 1)[0] + " … Read more"
    picks = rank([0, 1], [cut, plain], no_corpus, CFG)
    assert picks[0].index == 1
    assert any(r.startswith("truncated") for r in picks[1].reasons)


def test_wrapped_full_copy_beats_truncated_plain(sample_texts: dict[str, str]) -> None:
    plain, wrapped = sample_texts[PLAIN], sample_texts[WRAPPED]
    cut = plain[: len(plain) // 3].rsplit(" ", 1)[0] + "…"
    picks = rank([0, 1], [cut, wrapped], no_corpus, CFG)
    assert picks[0].index == 1


def test_mojibake_and_markup_count_against_a_copy(sample_texts: dict[str, str]) -> None:
    plain = sample_texts[PLAIN]
    mojibake = plain.encode("utf-8").decode("cp1252", errors="replace")
    picks = rank([0, 1], [mojibake, plain], no_corpus, CFG)
    assert picks[0].index == 1
    assert any(r.startswith("mojibake") for r in picks[1].reasons)
    tagged = plain.replace("\n", "</p>\n<p>")
    assert rank([0, 1], [tagged, plain], no_corpus, CFG)[0].index == 1


def test_typos_break_a_tie(sample_texts: dict[str, str]) -> None:
    plain = sample_texts[PLAIN]
    # Typos hit single occurrences: the misspelt word is new, the right one still appears.
    typo = plain.replace("Trump", "Trupm", 1).replace("Putin", "Ptuin", 1).replace("Kyiv", "Kyvi", 1)
    picks = rank([0, 1], [typo, plain], no_corpus, CFG)
    assert picks[0].index == 1
    assert any("no other copy has" in r for r in picks[1].reasons)


def test_lines_seen_across_the_corpus_are_chrome(sample_texts: dict[str, str]) -> None:
    plain = sample_texts[PLAIN]
    nav = "Home | World | Politics | Tech"
    wrapped = nav + "\n" + plain
    f_plain, f_wrapped = features([plain, wrapped], lambda h: 9, CFG)
    assert "Home | World | Politics | Tech" in f_wrapped.chrome_lines
    assert penalty(f_plain) < penalty(f_wrapped)


def test_ties_keep_run_order() -> None:
    text = "one two three four five six seven eight nine ten eleven twelve"
    assert [p.index for p in rank([3, 8], [text, text], no_corpus, CFG)] == [3, 8]


def test_chrome_phrases_match_whole_short_lines_and_inner_phrases() -> None:
    from dedup.cleanest import is_chrome_phrase

    assert is_chrome_phrase("skip to main content")
    assert is_chrome_phrase("comments 12")
    assert is_chrome_phrase("2025 example news all rights reserved")
    assert not is_chrome_phrase("the comments of the minister")  # one-word phrases only lead
    assert not is_chrome_phrase("shared values")


_HASHES = st.lists(
    st.integers(min_value=0, max_value=2**64 - 1) | st.sampled_from([0, 1, 2**63, 2**64 - 1]), max_size=60
)


@given(_HASHES)
def test_distinct_values_and_counts_are_numpys(values: list[int]) -> None:
    """The sort-based helpers give exactly np.unique's results, empty input included."""
    from dedup.cleanest import distinct_counts, distinct_values

    a = np.array(values, dtype=np.uint64)
    assert np.array_equal(distinct_values(a), np.unique(a)) and distinct_values(a).dtype == np.uint64
    got, counts = distinct_counts(a)
    want, want_counts = np.unique(a, return_counts=True)
    assert np.array_equal(got, want) and np.array_equal(counts, want_counts)


@given(st.lists(st.booleans(), max_size=40), st.integers(min_value=1, max_value=6))
def test_covered_tokens_are_those_under_a_shared_shingle(in_core: list[bool], size: int) -> None:
    from dedup.cleanest import covered_tokens

    n_tokens = len(in_core) + size - 1 if in_core else 0
    got = covered_tokens(np.array(in_core, dtype=bool), n_tokens, size)
    want = [any(in_core[s] for s in range(max(0, t - size + 1), min(t, len(in_core) - 1) + 1)) for t in range(n_tokens)]
    assert got.tolist() == want


def _syndicated(n: int, article: str) -> list[str]:
    """N copies of one article, each with its own site header and footer and one word of its
    last third changed; every tenth copy cut off about half-way."""
    words = article.split(" ")  # the paragraphs' line breaks stay on the words before them
    third = len(words) // 3
    out = []
    for i in range(n):
        changed = words[:]
        changed[2 * third + (i * 7919) % third] = f"word{i}"
        text = f"Site {i} news and weather\n{' '.join(changed)}\nCopyright site {i} media group\n"
        if i % 10 == 9:
            text = text[: len(text) // 2].rsplit(" ", 1)[0]
        out.append(text)
    return out


def test_ranking_two_thousand_copies_takes_seconds(sample_texts: dict[str, str]) -> None:
    """Judging each copy's cut against every other copy was quadratic: 2,000 copies took
    about 45 s. The lines are indexed once now."""
    import time

    # One sentence a line, as extractors and wrapped plain-text copies give an article.
    sentences = " ".join(ln for ln in sample_texts[PLAIN].split("\n") if len(ln.split()) > 5).split(". ")
    article = ".\n".join(sentences)
    texts = _syndicated(2000, article)
    started = time.perf_counter()
    picks = rank(list(range(len(texts))), texts, no_corpus, CFG)
    took = time.perf_counter() - started
    assert took < 15, f"{took:.1f} s"
    cut = {p.index for p in picks if any(r.startswith("truncated") for r in p.reasons)}
    assert cut == {i for i in range(2000) if i % 10 == 9}
    assert {p.index for p in picks[-200:]} == cut  # the cut copies rank last
