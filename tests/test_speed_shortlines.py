"""The short lines of a text tokenised together (``shortlines.short_lines``) are what each
line tokenised and hashed alone gives, for ASCII and other text, mojibake, NFKC forms and
unspaced scripts, whether a line was seen before or not; and two copies of a big text of
other script than ASCII are ranked about as fast as ASCII text, in time linear in their size."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import ScanConfig
from dedup.cleanest import rank
from dedup.linecounts import line_counts
from dedup.shingle import MOJIBAKE, SHORT_LINE_TOKENS, line_hash_of, sequence, tokens
from dedup.shortlines import SHORT_LINE_CHARS, line_hashes, short_lines

_PIECES = st.sampled_from(
    ["Home", "café", "ÃƒÂ©", "Ã©t", "â€™s", "ﬁne", "①", "ＡＢＣ", "e\u0301", "東京", "ラーメン", "\udce9", "\u2028", "\r",
     "\t", " ", "-", "’", "…", ".", "3", "Share this", "© 2025", "word " * 13]
)  # fmt: skip
_LINES = st.lists(st.lists(_PIECES | st.text(max_size=5), max_size=8).map("".join), max_size=12)


def _alone(line: str) -> tuple[int, str, str, int] | None:
    """One line's entry by the definition: its own tokens and line hash."""
    toks = tokens(line)
    if not line.strip() or not toks or len(toks) > SHORT_LINE_TOKENS or len(line) > SHORT_LINE_CHARS:
        return None
    h = line_hash_of(toks)
    return None if h is None else (h, " ".join(line.split()), " ".join(toks), len(toks))


def _each_alone(split: list[str]) -> dict[str, tuple[int, str, str, int]]:
    """Each short line's entry, the line tokenised alone, in first-seen order."""
    expected: dict[str, tuple[int, str, str, int]] = {}
    for line in split:
        entry = _alone(line)
        if entry is not None and line not in expected:
            expected[line] = entry
    return expected


@given(_LINES, _LINES)
@settings(max_examples=150, deadline=None)
def test_short_lines_are_each_line_tokenised_alone(first: list[str], second: list[str]) -> None:
    for lines in (first, second + first):  # the second call finds some lines known already
        text = "\n".join(lines)
        split = text.split("\n")
        got = short_lines(split, line_counts(text))
        assert list(got.items()) == list(_each_alone(split).items())


@given(_LINES, st.integers(0, 2**32))
@settings(max_examples=60, deadline=None)
def test_short_lines_hashed_from_the_text_tokens_are_each_line_hashed_alone(lines: list[str], salt: int) -> None:
    # Enough new lines that they are hashed from the text's token hashes in one pass.
    lines = [f"{line} n{salt}x{i}" for i, line in enumerate(lines * 6)] + ["w " * 13, ""]
    text = "\n".join(lines)
    split = text.split("\n")
    tok = None if MOJIBAKE.search(text) else sequence(text)[0]
    assert list(short_lines(split, line_counts(text), tok).items()) == list(_each_alone(split).items())


_WORDS = st.text(alphabet="abcxyz019éßñ", min_size=1, max_size=4)  # one token each, no mojibake


@given(st.lists(st.lists(_WORDS, max_size=14), max_size=20))
@settings(max_examples=100, deadline=None)
def test_line_hashes_of_runs_are_line_hash_of_their_tokens(runs: list[list[str]]) -> None:
    hashes = sequence(" ".join(w for run in runs for w in run))[0]
    starts = np.cumsum([0, *map(len, runs)])[:-1]
    expected = [line_hash_of([w.casefold() for w in run]) for run in runs]
    assert line_hashes(hashes, starts, [len(run) for run in runs]) == expected


def _text(lines: int, seed: int, accented: bool) -> str:
    """Lines of 1 to 25 seeded words, each word ending in an accented letter or a plain one."""
    rng = random.Random(seed)
    ends = "éßñ" if accented else "esn"
    vocab = ["".join(rng.choices("etaoinshrdlu", k=rng.randint(2, 7))) + rng.choice(ends) for _ in range(3000)]
    return "\n".join(" ".join(rng.choices(vocab, k=rng.randint(1, 25))) for _ in range(lines))


def _cpu_rank(lines: int, accented: bool) -> float:
    """CPU seconds to rank two copies of a fresh text (a new seed: no line was seen before)."""
    best = float("inf")
    for seed in (1, 2):
        text = _text(lines, seed, accented)
        start = time.process_time()
        rank([0, 1], [text, "Home\n" + text], lambda h: 0, ScanConfig())
        best = min(best, time.process_time() - start)
    return best


@pytest.mark.slow
def test_a_big_text_of_other_script_ranks_about_as_fast_as_ascii_and_in_linear_time() -> None:
    # Each line of other script than ASCII was tokenised alone, twice (its token count and,
    # for a line under 200 characters, its short-line entry): 6.5 times the CPU of the same
    # text in ASCII. Counted and tokenised in one pass a text, it is about twice.
    plain, other = _cpu_rank(5_000, False), _cpu_rank(5_000, True)
    assert other < 3.5 * plain
    assert _cpu_rank(20_000, True) < 2 * 4 * other  # four times the lines: not eight times the time
