from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.shingle import (
    hash_shingle,
    line_hash,
    normalize,
    sequence,
    sequences,
    shingle_batch,
    shingle_strings,
    tokens,
)


def reference_set(text: str, k: int = 5, char_k: int | None = None) -> np.ndarray:
    return np.unique(np.array([hash_shingle(s) for s in shingle_strings(text, k, char_k)], dtype=np.uint64))


def test_normalize_folds_case_width_quotes_and_dashes() -> None:
    assert normalize("It’s “Ｑｕｏｔｅｄ” — ﬁne STRASSE") == 'it\'s "quoted" - fine strasse'


def test_tokens_split_words_and_cjk_characters() -> None:
    assert tokens("Hello, world! 3.5 km") == ["hello", "world", "3", "5", "km"]
    assert tokens("跳至主要内容 ok") == ["跳", "至", "主", "要", "内", "容", "ok"]
    assert tokens("ภาษาไทย") == list("ภาษาไทย")
    assert tokens("naïve café") == ["naïve", "café"]
    assert tokens("<p>a&amp;b</p>") == ["p", "a", "amp", "b", "p"]


def test_shingle_strings_are_word_kgrams() -> None:
    assert shingle_strings("one two three four five six", 5) == ["one two three four five", "two three four five six"]
    assert shingle_strings("just two", 5) == ["just two"]
    assert shingle_strings("  ", 5) == []


def test_char_shingles_for_mostly_unspaced_text() -> None:
    assert shingle_strings("中文文本测试", 5, 3) == ["中 文 文", "文 文 本", "文 本 测", "本 测 试"]
    # Mostly Latin text keeps word shingles even with a few CJK characters in it.
    assert shingle_strings("a b c d e 评论", 5, 3)[0] == "a b c d e"


def test_batch_equals_reference_on_samples(sample_texts: dict[str, str]) -> None:
    texts = list(sample_texts.values())
    sh = shingle_batch(texts, 5)
    for i, text in enumerate(texts):
        assert np.array_equal(sh.get(i), reference_set(text))
        assert sh.words[i] == len(tokens(text))


def test_short_lines_are_hashed_per_document() -> None:
    texts = ["Title\nLeave a comment\nLeave a comment\n" + "long " * 40, "Leave a comment"]
    sh = shingle_batch(texts)
    leave = line_hash("Leave a comment")
    assert leave is not None
    assert sorted(sh.line_docs[sh.line_hashes == np.uint64(leave)].tolist()) == [0, 1]
    assert line_hash("long " * 40) is None  # paragraphs are not short lines


def test_duplicate_shingles_collapse() -> None:
    sh = shingle_batch(["a b c d e a b c d e a b c d e"])
    assert len(sh.get(0)) == 5


def test_sequence_matches_set() -> None:
    text = "the quick brown fox jumps over the lazy dog " * 3
    tok, win, size = sequence(text)
    assert size == 5 and len(tok) == 27 and len(win) == 23
    assert np.array_equal(np.unique(win), shingle_batch([text]).get(0))


MIXED_TEXT = st.lists(st.sampled_from([*"ab cd\n.,'’中文字テスト ﬁ É", "â€™", "  "]), max_size=60).map("".join)


@settings(max_examples=150)
@given(st.lists(MIXED_TEXT, max_size=6), st.sampled_from([(5, 5), (5, 3), (2, 4), (1, 1)]))
def test_sequences_of_many_texts_equal_sequence_of_each(texts: list[str], sizes: tuple[int, int]) -> None:
    k, char_k = sizes
    for text, (tok, win, size) in zip(texts, sequences(texts, k, char_k), strict=True):
        e_tok, e_win, e_size = sequence(text, k, char_k)
        assert size == e_size and tok.tolist() == e_tok.tolist() and win.tolist() == e_win.tolist()


def test_invalid_shingle_size() -> None:
    with pytest.raises(ValueError):
        shingle_batch(["x"], 0)


_alphabet = st.sampled_from([*"abcdeé ,.\n\t-’“中文本ไทย", "\u0085", "\u2028", "ﬁ", "\ud800"])


@settings(max_examples=300)
@given(st.text(_alphabet, max_size=120) | st.text(max_size=60))
def test_tokens_equal_their_character_by_character_definition(text: str) -> None:
    from dedup.shingle import tokens_by_char

    assert tokens(text) == tokens_by_char(text)


@settings(max_examples=200)
@given(st.lists(st.text(_alphabet, max_size=80), min_size=1, max_size=6), st.integers(1, 6), st.integers(1, 6))
def test_vectorised_equals_reference(texts: list[str], k: int, char_k: int) -> None:
    sh = shingle_batch(texts, k, char_k)
    assert len(sh) == len(texts)
    for i, text in enumerate(texts):
        assert np.array_equal(sh.get(i), reference_set(text, k, char_k))
        assert sh.words[i] == len(tokens(text))


def test_a_token_longer_than_a_chunk_stays_one_token(monkeypatch: pytest.MonkeyPatch) -> None:
    import dedup.shingle as sh

    monkeypatch.setenv("DEDUP_NO_KERNEL", "1")  # this is about the NumPy path
    monkeypatch.setattr(sh, "CHUNK", 64)
    text = "start " + "x" * 200 + " end of it " * 30
    got = sh.shingle_batch([text])
    assert got.words[0] == len(tokens(text))
    assert np.array_equal(got.get(0), reference_set(text))
