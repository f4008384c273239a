"""Readers' comments under an article are not the article, however many copies keep them.

A page's HTML, its ``get_text()`` and extractors that keep comments (trafilatura's default,
jusText) hold the comment thread, so it is in most copies of the page; counted as shared text,
a copy that holds only the article would "lack" it. The shingles that at least two copies have
after a comments heading ("12 Comments", "Leave a Reply", "4 thoughts on ...") and that no copy
with such a heading has before it are taken out of the shared text. Copies without a heading
do not vouch for the text: an extractor writes the thread straight after the article.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .shingle import tokens

#: A comments heading, as its tokens joined by spaces (lower case, no punctuation).
COMMENTS_HEAD = re.compile(
    r"(\d+ )?(comments?|responses?|replies|discussion|reader comments( \d+)?|\d+ thoughts? on .*|"
    r"leave a (reply|comment)|add (a |your )?comment|post a comment|join the discussion|"
    r"comments? (are )?closed|what do you think|show comments)( \d+)?"
)
#: A heading is a short line, and it sits below the first third of a copy's words (a
#: "Comments" link in the page's header is navigation, not the start of the thread).
_HEAD_TOKENS = 8


def comments_start(text: str, n_tokens: int, counts: Sequence[int] | None = None) -> int:
    """The token where a copy's comments begin (its first comments heading below its first
    third), or -1 when it has none. ``counts``: the tokens of each line, when known
    (``linecounts.line_counts``); only a line that may be a heading is tokenised then."""
    pos = 0
    lines = text.split("\n")
    for line, n in zip(lines, counts if counts is not None else [None] * len(lines), strict=True):
        if n is None:
            n = len(tokens(line)) if line.strip() else 0
        if not n:
            continue
        if n <= _HEAD_TOKENS and 3 * pos > n_tokens and COMMENTS_HEAD.fullmatch(" ".join(tokens(line))):
            return pos
        pos += n
    return -1


def without_comments(
    texts: Sequence[str],
    seqs: Sequence[tuple[NDArray[np.uint64], NDArray[np.uint64], int]],
    core: NDArray[np.uint64],
    line_tokens: Sequence[Sequence[int]] | None = None,
) -> NDArray[np.uint64]:
    """``core`` (sorted shingle hashes of the shared text) less the comment thread: shingles
    that two or more copies have after their comments heading and none has before it
    (``seqs`` are the texts' ``shingle.sequences``; ``line_tokens`` their lines' tokens, if known)."""
    before: list[NDArray[np.uint64]] = []
    after: list[NDArray[np.uint64]] = []
    for d, (text, (tok, win, size)) in enumerate(zip(texts, seqs, strict=True)):
        cut = comments_start(text, len(tok), None if line_tokens is None else line_tokens[d]) if len(win) else -1
        if cut >= 0:  # a shingle that reaches into the heading is the thread's, not the article's
            edge = max(0, cut - size + 1)
            before.append(win[:edge])
            after.append(np.unique(win[edge:]))
    if len(after) < 2 or not len(core):
        return core
    values, held = np.unique(np.concatenate(after), return_counts=True)
    late = values[held >= 2]
    early = np.unique(np.concatenate(before))
    thread = late[~np.isin(late, early, assume_unique=True)]
    return core[~np.isin(core, thread, assume_unique=True)]
