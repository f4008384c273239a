"""The short lines of a text for the ranking's chrome and article-line tests, tokenised together.

The cleanest-copy ranking asks of every short line of every copy (at most
``SHORT_LINE_TOKENS`` tokens and ``SHORT_LINE_CHARS`` characters) its hash as
``Shingles.line_hashes`` holds it, the line with its spaces collapsed (shown as chrome), its
tokens joined by spaces and their number. Tokenising each line alone costs a NumPy pass per
line of other text than ASCII, which made a big text's ranking slow; here the lines a table
lacks are tokenised in one pass (folding is line by line the same, see ``linecounts``; lines
with mojibake are folded alone, as ``shingle.tokens`` folds them). Lines recur across a
site's pages and a group's copies, so entries are kept in a bounded table per process.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .shingle import _fmix64_array as fmix64_array  # the shingle hash's finaliser, on arrays
from .shingle import line_hash_of, tokens
from .tokens import GOLDEN, MOJIBAKE, POSITION, SHORT_LINE_TOKENS, SOLO, WORD, classes, fold

#: A line longer than this is article text, never chrome; it is not tokenised for chrome.
SHORT_LINE_CHARS = 200
#: (line hash, the line with its spaces collapsed, its tokens joined, number of tokens).
Entry = tuple[int, str, str, int]
#: Entries kept between calls (a worker ranks many groups from the same sites).
_KEEP = 1 << 15
_known: dict[str, Entry] = {}
#: Below this many new lines, hashing each in Python costs less than the NumPy calls.
_FEW = 32


def short_lines(
    lines: Sequence[str], counts: Sequence[int], token_hashes: NDArray[np.uint64] | None = None
) -> dict[str, Entry]:
    """{line: entry} of each distinct short line of a text, in the order lines first come.

    Args:
        lines: the text's lines (``text.split("\\n")``).
        counts: their token counts (``linecounts.line_counts``): lines with none or more
            than ``SHORT_LINE_TOKENS`` are not short and are not tokenised.
        token_hashes: the hashes of the text's tokens in order (``shingle.sequence``), to
            hash the lines from; only for a text without mojibake, whose tokens are each
            line's tokens in turn. None: each line's tokens are hashed here.
    """
    out: dict[str, Entry | None] = {}  # the distinct short lines, in the order they first come
    todo: dict[str, int] = {}  # those not known yet -> where the line is
    known = _known
    for at, (line, n) in enumerate(zip(lines, counts, strict=True)):
        if 0 < n <= SHORT_LINE_TOKENS and len(line) <= SHORT_LINE_CHARS and line not in out:
            entry = out[line] = known.get(line)
            if entry is None:
                todo[line] = at
    if not todo:
        return out  # type: ignore[return-value]  # every entry known: none is None
    new = list(todo)
    toks = _tokens_of_lines(new)
    if token_hashes is not None and len(new) > _FEW and len(token_hashes) == sum(counts):
        starts = np.cumsum([0, *counts])
        hashes = line_hashes(token_hashes, starts[list(todo.values())], [len(t) for t in toks])
    else:
        hashes = [line_hash_of(t) for t in toks]
    if len(known) + len(new) > _KEEP:
        known.clear()
    for line, t, h in zip(new, toks, hashes, strict=True):
        if h is None:  # no token after all, or too many: not a short line
            del out[line]
            continue
        entry = out[line] = (h, " ".join(line.split()), " ".join(t), len(t))
        if len(new) <= _KEEP:
            known[line] = entry
    return out  # type: ignore[return-value]  # the lines without an entry are gone


def line_hashes(token_hashes: NDArray[np.uint64], starts: NDArray[np.int64], sizes: Sequence[int]) -> list[int | None]:
    """``shingle.line_hash_of`` of each run ``token_hashes[start : start + size]`` (None for
    a run of no token or more than ``SHORT_LINE_TOKENS``), all runs in one pass."""
    n = np.asarray(sizes, np.int64)
    ok = (n > 0) & (n <= SHORT_LINE_TOKENS)
    runs, lengths = np.asarray(starts, np.int64)[ok], n[ok]
    out: list[int | None] = [None] * len(n)
    if not len(runs):
        return out
    first = np.cumsum(lengths) - lengths  # where each run starts in the gathered tokens
    at = np.repeat(runs - first, lengths) + np.arange(int(lengths.sum()))
    th = token_hashes[at]
    with np.errstate(over="ignore"):
        prev = np.zeros(len(th), np.uint64)
        prev[1:] = th[:-1]
        prev[first] = 0
        mixed = fmix64_array(th ^ (prev * np.uint64(POSITION[1])))
        h = fmix64_array(np.add.reduceat(mixed, first) + lengths.astype(np.uint64) * np.uint64(GOLDEN))
    for i, value in zip(np.flatnonzero(ok).tolist(), h.tolist(), strict=True):
        out[i] = value
    return out


def _tokens_of_lines(lines: list[str]) -> list[list[str]]:
    """``shingle.tokens`` of each line (none holds a line break): ASCII lines one by one (a
    regular expression), the others in one pass over them joined."""
    out: list[list[str]] = [[] for _ in lines]
    other: list[int] = []
    for i, line in enumerate(lines):
        if line.isascii() or MOJIBAKE.search(line):  # mojibake: folded alone, as tokens() folds it
            out[i] = tokens(line)
        else:
            other.append(i)
    if not other:
        return out
    norm = fold("\n".join(lines[i] for i in other))
    cps = np.frombuffer(norm.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    cls = classes(cps)
    word = cls == WORD
    edge = np.diff(word.view(np.int8), prepend=0, append=0)
    starts, ends = np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)
    solo = np.flatnonzero(cls == SOLO)
    if len(solo):
        starts, ends = np.concatenate((starts, solo)), np.concatenate((ends, solo + 1))
        order = np.argsort(starts, kind="stable")
        starts, ends = starts[order], ends[order]
    line_of = np.searchsorted(np.flatnonzero(cps == ord("\n")), starts).tolist()  # breaks before each token
    for at, a, b in zip(line_of, starts.tolist(), ends.tolist(), strict=True):
        out[other[at]].append(norm[a:b])
    return out
