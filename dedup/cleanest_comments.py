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

Where no copy has a heading, a run of comment marks (cleanest_marks.py: "Joe says:", a
timestamp, "Reply") starts the thread where a witness's text ends before the first mark.
Each copy's thread then lies outside its article (thread_start), even where a reader quotes
the article.

Article text is never taken out by a heading alone: a "Comments" link above the article or
the last line of a footer splits off text that every copy holds, so no copy witnesses the
split and nothing moves. Marks and headings an article may have as subheads ("Discussion")
need two witnesses: one copy cut short cannot vouch for the rest of an article
(tests/test_cleanest_comments.py, tests/test_cleanest_thread.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .cleanest_marks import comment_marks, is_thread_shaped, line_starts
from .shingle import tokens

#: A comments heading, as its tokens joined by spaces (lower case, no punctuation).
COMMENTS_HEAD = re.compile(
    r"(\d+ )?(comments?|responses?|replies|discussion|reader comments( \d+)?|(\d+ )?(thoughts?|responses?|replies) "
    r"(on|to) .*|leave a (reply|comment)|add (a |your )?comment|post a comment|join the discussion|"
    r"comments? (are )?closed|what do you think|show comments)( \d+)?"
    # "33 Comments Add A Comment", "{ 74 comments… read them below or add one }"
    r"( (add a comment|read them below or add one|add one now|add yours))?"
)
#: Headings an article may have as a subhead: they need two witnesses, as comment marks do.
WEAK_HEAD = re.compile(r"discussion|join the discussion|what do you think|responses?|replies")
#: A heading is one short line (a title-long "N thoughts on <title>" at most).
_HEAD_TOKENS = 20
_HEAD_CHARS = 200
#: Any heading holds one of these (a cheap test that skips most texts whole).
_HEAD_STEMS = ("comment", "repl", "respons", "discuss", "thought", "what do you think")
_HEAD_WORDS = re.compile("|".join(_HEAD_STEMS), re.IGNORECASE)
_STEMS_LOWER = re.compile("|".join(_HEAD_STEMS))
#: A witness holds at least this share of the shared text before the heading (the article;
#: a copy's navigation or title bar before it may be missing) ...
WITNESS_BEFORE = 0.5
#: ... and at most this share of the shared text after it (some extractors keep a first comment).
WITNESS_AFTER = 0.25
#: Fewer shared shingles than this before or after a heading is no split to judge (a heading
#: in the title bar, or a last-line "Comments" link).
_MIN_SHINGLES = 5
#: Headings tried per group, each against at most this many witnesses (and at most that
#: many witnesses tried for comment marks): a group of thousands of copies costs no more
#: than a page's six.
_MAX_TRIES = 24
_MAX_WITNESSES = 64


def heading_lines(text: str) -> list[tuple[int, bool]]:
    """(line, weak) of the copy's comments headings, first to last, lines counted in
    ``text.split("\\n")``; a weak heading ("Discussion", "Replies") may be an article's subhead."""
    found: list[tuple[int, bool]] = []
    line_no, at, seen = 0, 0, -1
    low = text.lower()
    # Only the lines that hold a stem are read (a long page has few); the stems are found in
    # the lower-cased text, or in the text itself where lower-casing changed its length.
    hits = _STEMS_LOWER.finditer(low) if len(low) == len(text) else _HEAD_WORDS.finditer(text)
    for hit in hits:
        line_no += text.count("\n", at, hit.start())
        at = hit.start()
        if line_no == seen:
            continue
        seen = line_no
        end = text.find("\n", at)
        line = text[text.rfind("\n", 0, at) + 1 : len(text) if end < 0 else end]
        if len(line) <= _HEAD_CHARS:
            toks = tokens(line)
            joined = " ".join(toks)
            if toks and len(toks) <= _HEAD_TOKENS and COMMENTS_HEAD.fullmatch(joined):
                found.append((line_no, bool(WEAK_HEAD.fullmatch(joined))))
    return found


def heading_starts(text: str) -> list[int]:
    """The tokens where the copy's comments headings are, first to last; a weak heading
    ("Discussion", "Replies": an article's subhead too) is given as minus its token minus one."""
    found = heading_lines(text)
    if not found:
        return []
    starts = line_starts(text.split("\n"))
    return [-starts[i] - 1 if weak else starts[i] for i, weak in found]


#: ... its first mark at most this many tokens after the end of the article (the first
#: comment's text comes before its "Reply" line).
_FIRST_COMMENT_TOKENS = 400


def comments_start(text: str, n_tokens: int) -> int:
    """The token where a copy's comments begin by its own lines alone (its first heading
    below its first third), or -1; the ranking asks the other copies instead (without_comments)."""
    return next((pos for pos in map(_unweak, heading_starts(text)) if 3 * pos > n_tokens), -1)


def _unweak(pos: int) -> int:
    return pos if pos >= 0 else -pos - 1


def _share(values: NDArray[np.uint64], sorted_set: NDArray[np.uint64]) -> float:
    """The share of ``values`` found in a sorted array."""
    return float(np.count_nonzero(_held(values, sorted_set))) / len(values) if len(values) else 0.0


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
    if sets is None:
        sets = [np.unique(win) for _, win, _ in seqs]
    found: list[NDArray[np.uint64]] = []
    tries = mark_tries = 0
    for c, starts in enumerate(heads):
        if tries >= _MAX_TRIES:
            break
        _, win, size = seqs[c]
        for cut in starts:  # a heading: the thread starts there
            if tries >= _MAX_TRIES:
                break
            judged = _judge(c, max(0, _unweak(cut) - size + 1), win, core, sets, 1 if cut >= 0 else 2)
            tries += judged is not None
            if judged is not None and len(judged):
                found.append(judged)
                break
        else:
            marks = comment_marks(texts[c]) if len(win) else []
            if not is_thread_shaped([k for _, k in marks]):
                continue
            # No heading: a run of comment marks, the thread starting where a witness's
            # text ends before the first mark.
            first = marks[0][0]
            edge_mark = max(0, first - size + 1)
            for w in range(len(texts))[:_MAX_WITNESSES]:
                if w == c or mark_tries >= _MAX_WITNESSES:
                    continue
                mark_tries += 1
                held = np.flatnonzero(_held(win[:edge_mark], sets[w]))
                if not len(held):
                    continue
                edge = int(held[-1]) + 1
                if first - edge > _FIRST_COMMENT_TOKENS or not is_thread_shaped([k for m, k in marks if m >= edge]):
                    continue
                judged = _judge(c, edge, win, core, sets, 2)
                if judged is not None and len(judged):
                    found.append(judged)
                    break
    if not found:
        return core, none
    thread = np.unique(np.concatenate(found))
    return core[~np.isin(core, thread, assume_unique=True)], thread


def _held(values: NDArray[np.uint64], sorted_set: NDArray[np.uint64]) -> NDArray[np.bool_]:
    """Which values are in a sorted array."""
    if not len(sorted_set) or not len(values):
        return np.zeros(len(values), bool)
    pos = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return np.asarray(sorted_set[pos] == values)


def _judge(
    c: int,
    edge: int,
    win: NDArray[np.uint64],
    core: NDArray[np.uint64],
    sets: Sequence[NDArray[np.uint64]],
    need: int,
) -> NDArray[np.uint64] | None:
    """The thread if copy ``c`` split before its shingle ``edge`` is vouched for by ``need``
    witnesses (empty if not), or None when the split leaves too little on either side to judge.
    A comments heading is one copy's word; comment marks or a heading an article might have
    need two: a single copy cut short would otherwise vouch for the rest of an article."""
    before = np.unique(win[:edge])
    before = before[np.isin(before, core, assume_unique=True)]
    after = np.unique(win[edge:])
    after = after[np.isin(after, core, assume_unique=True) & ~np.isin(after, before, assume_unique=True)]
    if len(before) < _MIN_SHINGLES or len(after) < _MIN_SHINGLES:
        return None
    witnesses = [
        sets[w]
        for w in range(len(sets))[:_MAX_WITNESSES]
        if w != c and _share(after, sets[w]) <= WITNESS_AFTER and _share(before, sets[w]) >= WITNESS_BEFORE
    ]
    if len(witnesses) < need:
        return after[:0]
    held = np.unique(np.concatenate(witnesses))  # what a witness holds is the article, wherever this copy has it
    return after[~np.isin(after, held, assume_unique=True)]


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
    score = (
        np.concatenate(([0], np.cumsum(in_core, dtype=np.int64)))
        + total
        - np.concatenate(([0], np.cumsum(in_thread, dtype=np.int64)))
    )
    return int(np.argmax(score))
