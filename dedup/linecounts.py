"""Tokens per line of a text, counted once for the ranking and evidence stages.

Both stages walk a text's lines and ask each line's number of tokens (``shingle.tokens``):
where the shared text starts and ends, which short lines are chrome, where a comment thread
begins, which lines are prose. An ASCII text's tokens are its runs of ASCII letters and
digits (``shingle.tokens``), so the counts of all its lines come from one pass over its
bytes; other text is tokenised line by line, as before.
"""

from __future__ import annotations

import numpy as np

from .shingle import tokens

_NEWLINE = 10


def line_counts(text: str) -> list[int]:
    """``len(shingle.tokens(line))`` of each line of ``text.split("\\n")`` (0 for a blank line).

    Example:
        >>> line_counts("Two words\\n\\nand 3 more!")
        [2, 0, 3]
    """
    if not text.isascii():
        return [len(tokens(line)) if line.strip() else 0 for line in text.split("\n")]
    b = np.frombuffer(text.encode("ascii"), np.uint8)
    word = ((b >= 48) & (b <= 57)) | ((b >= 65) & (b <= 90)) | ((b >= 97) & (b <= 122))
    start = word.copy()
    start[1:] &= ~word[:-1]
    line = np.cumsum(b == _NEWLINE)  # a character's line (a newline is no word character)
    counts: list[int] = np.bincount(line[start], minlength=text.count("\n") + 1).tolist()
    return counts
