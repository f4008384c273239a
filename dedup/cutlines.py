"""The truncation test's lines: each copy's lines normalised, and an index of a group's lines.

The cleanest-copy ranking (cleanest.py) calls a copy cut short when its last line stops
part-way through a longer line other copies have; it compares lines as ``shingle.normalize``
makes them, stripped, leaving out blank ones.
"""

from __future__ import annotations

import bisect
import functools
from collections import Counter
from collections.abc import Sequence

from .shingle import normalize


class LineIndex:
    """The distinct lines of a group's copies, indexed once so that judging every copy's cut
    costs about linear time in the copies (comparing each with all others was quadratic)."""

    def __init__(self, norm_lines: Sequence[Sequence[str]]) -> None:
        holders: dict[str, set[int]] = {}
        self._last = Counter[str]()
        for j, lines in enumerate(norm_lines):
            if not lines:
                continue
            self._last[lines[-1]] += 1
            for ln in lines:
                have = holders.get(ln)
                if have is None:
                    holders[ln] = {j}
                else:
                    have.add(j)
        self._lines = norm_lines
        self._holders = holders
        self._sorted = sorted(holders)  # lines that start with a tail are one run of this order
        self._going: dict[tuple[str, bool], frozenset[int]] = {}

    @functools.cached_property
    def _inner(self) -> dict[str, set[int]]:
        """A line -> the copies that have it before their last line (made when a copy marked
        as cut first asks: few are)."""
        inner: dict[str, set[int]] = {}
        for j, lines in enumerate(self._lines):
            for ln in lines[:-1]:
                inner.setdefault(ln, set()).add(j)
        return inner

    def go_on(self, tail: str, marked: bool, me: int) -> int:
        """Copies other than ``me`` that go on past ``tail``: a longer line of theirs starts
        with it (cut mid-line), or, when the copy is marked as cut, it is one of their lines
        before their last (cut between lines)."""
        key = (tail, marked)
        going = self._going.get(key)
        if going is None:
            found: set[int] = set()
            at = bisect.bisect_left(self._sorted, tail)
            while at < len(self._sorted) and self._sorted[at].startswith(tail):
                if len(self._sorted[at]) > len(tail) + 10:
                    found |= self._holders[self._sorted[at]]
                at += 1
            if marked:
                found |= self._inner.get(tail, set())
            going = self._going[key] = frozenset(found)
        return len(going) - (me in going)

    def stop(self, tail: str, last: str) -> int:
        """Copies other than the one whose last line is ``last`` that end on ``tail`` or on ``last``."""
        both = self._last[tail] + (self._last[last] if last != tail else 0)
        return both - 1  # the copy itself ends on ``last``


def cut_lines(text: str) -> list[str]:
    """``normalize``d and stripped, each line of a text that is not blank."""
    if text.isascii() and _ASCII_NORMAL:  # normalising ASCII is lower-casing: the whole text at once
        return [n.strip() for ln, n in zip(text.split("\n"), text.lower().split("\n"), strict=True) if ln.strip()]
    return [_norm_line(ln) for ln in text.split("\n") if ln.strip()]


#: ``normalize`` of ASCII text is its lower case (no ASCII quote or dash is replaced).
_ASCII_NORMAL = normalize("".join(map(chr, range(128)))) == "".join(map(chr, range(128))).lower()


@functools.lru_cache(maxsize=4096)  # the copies of a group repeat each other's lines
def _norm_line(line: str) -> str:
    return normalize(line).strip()
