"""Readers' comments under an article are not the article, however many copies keep them.

A page's HTML, its ``get_text()`` and extractors that keep comments (trafilatura's default,
jusText) hold the comment thread, so it is in most copies of the page; counted as shared text,
a copy that holds only the article would "lack" it. A copy's comments heading ("12 Comments",
"Leave a Reply", "4 thoughts on ...") splits it in two; the split is the start of the thread
when another copy of the group vouches for it: a witness that holds most of the shared text
before the heading and little of what comes after it (the article alone, as a cleaner
extractor or a person gave it). What comes after, less anything a witness holds, is taken out
of the shared text for every copy: one copy's heading speaks for the same text in copies that
carry the thread without one (an extractor writes it straight after the article).

Article text is never taken out by a heading alone: a "Comments" link above the article, a
"Discussion" subhead inside it, or the last line of a footer splits off text that every
copy holds, so no copy witnesses the split and nothing moves (tests/test_cleanest_comments.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .shingle import tokens

#: A comments heading, as its tokens joined by spaces (lower case, no punctuation).
COMMENTS_HEAD = re.compile(
    r"(\d+ )?(comments?|responses?|replies|discussion|reader comments( \d+)?|(\d+ )?(thoughts?|responses?|replies) "
    r"(on|to) .*|leave a (reply|comment)|add (a |your )?comment|post a comment|join the discussion|"
    r"comments? (are )?closed|what do you think|show comments)( \d+)?"
    # "33 Comments Add A Comment", "{ 74 comments… read them below or add one }"
    r"( (add a comment|read them below or add one|add one now|add yours))?"
)
#: A heading is one short line (a title-long "N thoughts on <title>" at most).
_HEAD_TOKENS = 20
#: Any heading holds one of these (a cheap test that skips most texts whole).
_HEAD_WORDS = re.compile(r"comment|repl|respons|discuss|thought|what do you think", re.IGNORECASE)
#: A witness holds at least this share of the shared text before the heading (the article;
#: a copy's navigation or title bar before it may be missing) ...
WITNESS_BEFORE = 0.5
#: ... and at most this share of the shared text after it (some extractors keep a first comment).
WITNESS_AFTER = 0.25
#: Fewer shared shingles than this before or after a heading is no split to judge (a heading
#: in the title bar, or a last-line "Comments" link).
_MIN_SHINGLES = 5
#: Headings tried per group, each against at most this many witnesses: a group of
#: thousands of copies costs no more than a page's six.
_MAX_TRIES = 24
_MAX_WITNESSES = 64


def heading_starts(text: str) -> list[int]:
    """The tokens where the copy's comments headings are, first to last."""
    if not _HEAD_WORDS.search(text):
        return []
    found: list[int] = []
    pos = 0
    for line in text.split("\n"):
        toks = tokens(line) if line.strip() else []
        if not toks:
            continue
        if len(toks) <= _HEAD_TOKENS and _HEAD_WORDS.search(line) and COMMENTS_HEAD.fullmatch(" ".join(toks)):
            found.append(pos)
        pos += len(toks)
    return found


def comments_start(text: str, n_tokens: int) -> int:
    """The token where a copy's comments begin by its own lines alone (its first heading
    below its first third), or -1; the ranking asks the other copies instead (without_comments)."""
    return next((pos for pos in heading_starts(text) if 3 * pos > n_tokens), -1)


def _share(values: NDArray[np.uint64], sorted_set: NDArray[np.uint64]) -> float:
    """The share of ``values`` found in a sorted array."""
    if not len(values):
        return 0.0
    if not len(sorted_set):
        return 0.0
    pos = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return float(np.count_nonzero(sorted_set[pos] == values)) / len(values)


def without_comments(
    texts: Sequence[str],
    seqs: Sequence[tuple[NDArray[np.uint64], NDArray[np.uint64], int]],
    core: NDArray[np.uint64],
    sets: Sequence[NDArray[np.uint64]] | None = None,
) -> NDArray[np.uint64]:
    """``core`` less the comment thread (``split_thread``'s first half)."""
    return split_thread(texts, seqs, core, sets)[0]


def split_thread(
    texts: Sequence[str],
    seqs: Sequence[tuple[NDArray[np.uint64], NDArray[np.uint64], int]],
    core: NDArray[np.uint64],
    sets: Sequence[NDArray[np.uint64]] | None = None,
) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """(``core`` less the comment thread, the thread's shingles): see the module docstring.

    ``core`` holds the sorted shingle hashes of the shared text, ``seqs`` are the texts'
    ``shingle.sequences``, ``sets`` their sorted distinct shingles.
    """
    none = np.zeros(0, np.uint64)
    if not len(core) or len(texts) < 2:
        return core, none
    heads = [heading_starts(t) if len(s[1]) else [] for t, s in zip(texts, seqs, strict=True)]
    if not any(heads):
        return core, none
    if sets is None:
        sets = [np.unique(win) for _, win, _ in seqs]
    found: list[NDArray[np.uint64]] = []
    tries = 0
    for c, starts in enumerate(heads):
        _, win, size = seqs[c]
        for cut in starts:
            if tries >= _MAX_TRIES:
                break
            edge = max(0, cut - size + 1)  # a shingle that reaches into the heading is the thread's
            before = np.unique(win[:edge])
            before = before[np.isin(before, core, assume_unique=True)]
            after = np.unique(win[edge:])
            after = after[np.isin(after, core, assume_unique=True) & ~np.isin(after, before, assume_unique=True)]
            if len(before) < _MIN_SHINGLES or len(after) < _MIN_SHINGLES:
                continue
            tries += 1
            witnesses = [
                sets[w]
                for w in range(len(texts))[:_MAX_WITNESSES]
                if w != c and _share(after, sets[w]) <= WITNESS_AFTER and _share(before, sets[w]) >= WITNESS_BEFORE
            ]
            if witnesses:  # what a witness holds is the article, wherever this copy has it
                held = np.unique(np.concatenate(witnesses))
                found.append(after[~np.isin(after, held, assume_unique=True)])
                break
    if not found:
        return core, none
    thread = np.unique(np.concatenate(found))
    return core[~np.isin(core, thread, assume_unique=True)], thread


def thread_start(in_core: NDArray[np.bool_], win: NDArray[np.uint64], thread: NDArray[np.uint64]) -> int:
    """The shingle where a copy's comment thread begins (``len(win)`` if it has none): the
    split with the most shared text before it and the most thread after it. A reader who
    quotes the article does not pull the thread into the article's run."""
    if not len(thread) or not len(win):
        return len(win)
    in_thread = np.isin(win, thread)
    total = int(np.count_nonzero(in_thread))
    if total < _MIN_SHINGLES:
        return len(win)
    # score(p) = shared shingles before p + thread shingles from p on, for p = 0 .. len(win)
    score = np.concatenate(([0], np.cumsum(in_core, dtype=np.int64))) + total - np.concatenate(
        ([0], np.cumsum(in_thread, dtype=np.int64))
    )
    return int(np.argmax(score))
