"""Tokens per line of a text, counted once for the ranking and evidence stages.

Both stages walk a text's lines and ask each line's number of tokens (``shingle.tokens``):
where the shared text starts and ends, which short lines are chrome, where a comment thread
begins, which lines are prose. The counts of all lines come from one pass over the whole
text, in time linear in its size: an ASCII text's tokens are its runs of ASCII letters and
digits, counted by byte operations; other text is folded and classified whole (folding is
line by line the same: NFKC and case folding neither make nor join a line break), but for
lines that hold mojibake, which the fold repairs with ftfy line by line as before.
"""

from __future__ import annotations

import numpy as np

from .shingle import tokens
from .tokens import MOJIBAKE, SOLO, WORD, classes, fold

_NEWLINE = 10
#: Bytes -> "a" for an ASCII letter or digit, "\n" for a line break, " " for the rest.
_WORDS_AND_BREAKS = bytes(
    0x61 if (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122) else _NEWLINE if c == _NEWLINE else 0x20
    for c in range(256)
)


def line_counts(text: str) -> list[int]:
    """``len(shingle.tokens(line))`` of each line of ``text.split("\\n")`` (0 for a blank line).

    Example:
        >>> line_counts("Two words\\n\\nand 3 more!")
        [2, 0, 3]
    """
    if text.isascii():
        # Each token is a run of "a": one starts after each " " or line start followed by "a".
        marked = b" " + text.encode("ascii").translate(_WORDS_AND_BREAKS).replace(b"\n", b"\n ")
        return [line.count(b" a") for line in marked.split(b"\n")]
    if MOJIBAKE.search(text):  # the fold repairs mojibake with ftfy: line by line, as tokens() does
        lines = text.split("\n")
        odd = {i: line for i, line in enumerate(lines) if MOJIBAKE.search(line)}
        counts = _counts_of_folded(fold("\n".join("" if i in odd else line for i, line in enumerate(lines))))
        for i, line in odd.items():
            counts[i] = len(tokens(line))
        return counts
    return _counts_of_folded(fold(text))


def _counts_of_folded(norm: str) -> list[int]:
    """Tokens per line of a folded text: word runs and unspaced-script characters, by the
    line breaks before each."""
    cps = np.frombuffer(norm.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    cls = classes(cps)
    word = cls == WORD
    start = word.copy()
    start[1:] &= ~word[:-1]
    start |= cls == SOLO
    breaks = np.flatnonzero(cps == _NEWLINE)
    line_of = np.searchsorted(breaks, np.flatnonzero(start))  # a token's line: the breaks before it
    counts: list[int] = np.bincount(line_of, minlength=len(breaks) + 1).tolist()
    return counts
