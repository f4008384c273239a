"""The size guard measured on a page's article, without its readers' comment thread (verify).

The containment rule's size guard (``min_size_ratio``) keeps a widget, a teaser or a quote
from joining every page that holds it. It also kept an article apart from its own page when
the page carries a readers' thread many times the article's length: on the dragnet pages the
article alone (a person's text, readability-lxml's) is often 2% of the page's HTML, its
``get_text()``, trafilatura's and jusText's output, all of which keep the thread. Such a
page is a copy of the article plus its comments, which the cleanest pick already sets apart
(cleanest_comments.py), and the page stays in the cluster as a superset when its comments
are found in no other copy kept (evidence.py).

The smaller document is its own witness here, as a copy is for the cleanest pick: a comments
heading of the larger ("12 Comments", "Leave a Reply") starts the thread when at least the
containment threshold of the smaller's shingles lie before it and the smaller holds at most
``WITNESS_AFTER`` of what follows it. The guard is then measured against the larger's
text before that heading, in shingles or in prose (``min_prose_ratio`` of its prose tokens
covered, as verify's size guard in prose). A weak heading ("Discussion", "Replies": an article's subhead
too) needs two witnesses in the ranking and is not used here, where there is one.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .cleanest import covered_tokens
from .cleanest_comments import WITNESS_AFTER, heading_lines
from .config import ScanConfig
from .evidence import Layout


def _held(values: NDArray[np.uint64], sorted_set: NDArray[np.uint64]) -> NDArray[np.bool_]:
    """Which values are in a sorted array."""
    if len(sorted_set) == 0:
        return np.zeros(len(values), bool)
    pos = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return np.asarray(sorted_set[pos] == values)


def article_part(small: NDArray[np.uint64], large: Layout, config: ScanConfig) -> tuple[int, int]:
    """(the token where the larger document's comment thread starts, as the smaller
    (``small``, sorted) vouches for it, the larger's distinct shingles before it); (0, 0) when
    no heading of its starts a thread.

    The larger's layout gives its shingle at each token and each token's line, so a heading
    line is found by its text alone and its shingles start at its first token.
    """
    windows = large.windows
    if len(small) == 0 or len(windows) == 0:
        return 0, 0
    headings = [line for line, weak in heading_lines(large.text) if not weak]
    if not headings:
        return 0, 0
    line_of = large.lines()[0]
    for start in np.searchsorted(line_of, headings).tolist():
        if start <= 0 or start >= len(windows):
            continue  # no text on one side of it
        before = np.unique(windows[:start])
        after = windows[start:]
        inside = float(np.count_nonzero(_held(small, before))) / len(small)
        if inside >= config.containment_threshold and np.count_nonzero(_held(after, small)) <= WITNESS_AFTER * len(
            after
        ):
            return int(start), len(before)
    return 0, 0


def article_size(small: NDArray[np.uint64], large: Layout, config: ScanConfig) -> int:
    """The larger's distinct shingles before its comment thread (``article_part``); 0 without one."""
    return article_part(small, large, config)[1]


def fits_article(small: NDArray[np.uint64], large: Layout, config: ScanConfig) -> bool:
    """Whether the smaller passes the size guard against the larger's article alone: in
    shingles (``min_size_ratio``), or in the prose before the thread that it covers
    (``min_prose_ratio``, as verify's size guard in prose)."""
    start, size = article_part(small, large, config)
    if not start:
        return False
    if len(small) >= config.min_size_ratio * size:
        return True
    prose = large.lines()[1][:start]
    total = int(np.count_nonzero(prose))
    held = covered_tokens(_held(large.windows[:start], small), start, large.size)
    bar = max(config.min_prose_ratio, config.min_size_ratio)
    return total > 0 and int(np.count_nonzero(held & prose)) >= bar * total
