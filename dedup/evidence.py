"""Per-member evidence: what a member holds outside the kept copy, and whether it is safe to drop.

In:  a cluster's members in rank order (the kept copy first), their texts (re-read), the
     run's shingle sets (to ask whether any other document holds a passage), the config.
Out: one ``Evidence`` per member: its words outside the kept copy, how many of them are
     boilerplate, and the decision: ``keep`` (the kept copy), ``drop``, or ``superset``.

A member's *own words* are its tokens that no shingle of the kept copy covers. They are
boilerplate unless they form *substantive own text*:

* **prose**: a run of at least ``MIN_RUN`` own tokens on prose lines (lines of at least
  ``PROSE_LINE`` tokens that do not end in an ellipsis), whose lines hold at least
  ``SENTENCES`` sentence ends. Navigation, labels, bylines, share bars and footers are short
  lines; teasers of other posts end in an ellipsis; a typo or an edited sentence is a short
  run. None of them is prose by this test.
* **found nowhere else**: fewer than half of the run's shingles are held by a document
  outside the cluster, or by a copy of the cluster that is kept. Boilerplate recurs across
  a site's pages; a quote or a teaser repeats another article. A passage that a dropped
  copy also holds is still unique: dropping both would lose it.

A member with at least ``SUPERSET_WORDS`` words of substantive own text is a *superset*:
it contains the kept copy plus text of its own, so it stays in the cluster, reported, but
out of the drop list. Members are decided in rank order; a later member whose own text an
earlier superset already holds is an ordinary drop.

The same prose test tells apart pages of one site template (``verify``): two documents
that each hold ``TEMPLATE_WORDS`` words of own prose the other lacks are two documents
that share a frame, not copies, whatever their Jaccard or containment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from .config import ScanConfig
from .linecounts import line_counts
from .lookup import BIG_QUERY, member_sorted
from .sets import ShingleSets
from .shingle import sequence

#: Bump when a change here changes decisions: a stored scan result is keyed by it.
EVIDENCE_VERSION = 2

MIN_RUN = 25  # own tokens in a row: fewer is an edit, a title, a byline, a typo or two
PROSE_LINE = 8  # tokens: a shorter line is a link, a label, a heading, a nav item
SENTENCES = 2  # sentence ends the lines of a run must hold to be prose (one is a headline)
SUPERSET_WORDS = 50  # substantive own words that keep a member out of the drop list (a paragraph)
TEMPLATE_WORDS = 40  # own prose words each of two pages must hold to be told apart (verify)
#: ... and at least this share of what they share: extractors' outputs of one real page each
#: hold a paragraph the other lacks (own prose 2-15% of the shared text, median 7%, on the
#: dragnet development pages), pages of one template a body of their own beside the frame.
TEMPLATE_SHARE = 0.15
#: ... or at least this share of the prose it shares with the other. Pages of one site share
#: mostly chrome (short lines, link lists), so beside a long frame their articles are a small
#: share of all they share but not of the shared prose; an extractor's output shares the
#: article's prose with the page and holds at most a dropped paragraph or a comment more
#: (below 0.24 of the shared prose on every dragnet development page).
PROSE_SHARE = 0.2
ELSEWHERE_SHARE = 0.5  # share of a run's shingles other documents hold for it to be found elsewhere

_SENTENCE_END = re.compile(r"[.!?](?=[\"'”’)\]]*(\s|$))|[。！？]")
_ELLIPSIS = ("...", "…", "[...]", "[…]")

Sequence3 = tuple[NDArray[np.uint64], NDArray[np.uint64], int]
Decision = Literal["keep", "drop", "superset"]  # as records.Decision


@dataclass(frozen=True, slots=True)
class Run:
    """A run of own prose: its word count and the shingles lying wholly inside it."""

    words: int
    shingles: NDArray[np.uint64]  # sorted, unique


@dataclass(frozen=True, slots=True)
class OwnText:
    """What a document holds outside another: its own words and, of them, its prose runs."""

    words: int
    runs: tuple[Run, ...]
    shared_prose: int = 0  # words on prose lines the other covers (counted once there are MIN_RUN own words)

    @property
    def prose_words(self) -> int:
        return sum(r.words for r in self.runs)


@dataclass(frozen=True, slots=True)
class Evidence:
    """One member's words outside the kept copy and what is decided for it."""

    own_words: int  # words outside the kept copy
    boilerplate_words: int  # of those, the words that are boilerplate (or held by another document)
    decision: Decision

    @property
    def unique_words(self) -> int:
        """Own words of substantive text found nowhere else: what dropping would lose."""
        return self.own_words - self.boilerplate_words


KEPT = Evidence(0, 0, "keep")


def _member(values: NDArray[np.uint64], sorted_set: NDArray[np.uint64]) -> NDArray[np.bool_]:
    """Which values are in a sorted array."""
    if len(sorted_set) == 0 or len(values) == 0:
        return np.zeros(len(values), bool)
    if len(values) > BIG_QUERY:
        return member_sorted(values, sorted_set)
    pos = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return np.asarray(sorted_set[pos] == values)


def _distinct(values: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """``np.unique`` by a sort: faster on the few hundred hashes of one text."""
    ordered = np.sort(values)
    keep = np.ones(len(ordered), bool)
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _covered(in_other: NDArray[np.bool_], n_tokens: int, size: int) -> NDArray[np.bool_]:
    """Tokens covered by at least one shingle the other document holds."""
    starts = np.flatnonzero(in_other)
    diff = np.bincount(starts, minlength=n_tokens + 1) - np.bincount(
        np.minimum(starts + size, n_tokens), minlength=n_tokens + 1
    )
    return np.cumsum(diff[:-1]) > 0


def _line_facts(text: str, config: ScanConfig) -> tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.int64]]:
    """Per line: its tokens, whether it is a prose line, its sentence ends."""
    lines = text.split("\n")
    counts = np.array(line_counts(text), np.int64)  # each line's tokens, in one pass over the text
    prose = np.array(
        [
            n >= PROSE_LINE and not line.rstrip().endswith(_ELLIPSIS)
            for n, line in zip(counts.tolist(), lines, strict=True)
        ],
        bool,
    )
    ends = np.array(
        [len(_SENTENCE_END.findall(line)) if p else 0 for p, line in zip(prose.tolist(), lines, strict=True)], np.int64
    )
    return counts, prose, ends


class Layout:
    """A document's shingle windows and, when first asked, its line facts: what ``own_text``
    needs of it. Built once per document, it serves every document it is measured against
    (verify's template test meets one document in many pairs)."""

    __slots__ = ("_lines", "_prose", "config", "size", "text", "tokens", "windows")

    def __init__(self, text: str, config: ScanConfig, seq: Sequence3 | None = None) -> None:
        tok, win, size = seq if seq is not None else sequence(text, config.shingle_size, config.char_shingle_size)
        self.text, self.config = text, config
        self.windows, self.tokens, self.size = win, len(tok), size
        self._lines: tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.int64]] | None = None
        self._prose = -1

    def facts(self) -> Facts:
        """What the template test's bound needs of this document (small: kept per scan)."""
        if self._prose < 0:
            self._prose = int(np.count_nonzero(self.lines()[1]))
        ordered = np.sort(self.windows)
        distinct = not bool((ordered[1:] == ordered[:-1]).any())  # no shingle repeats: the set counts positions
        return Facts(distinct, self._prose, self.size)

    def lines(self) -> tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.int64]]:
        """Per token its line and whether that is a prose line; the sentence ends before each line."""
        if self._lines is None:
            n = self.tokens
            counts, prose_lines, ends = _line_facts(self.text, self.config)
            if int(counts.sum()) != n:  # the line split tokenised otherwise: judge the text as one line
                counts = np.array([n], np.int64)
                prose_lines = np.array([True])
                ends = np.array([len(_SENTENCE_END.findall(self.text))], np.int64)
            line_of = np.repeat(np.arange(len(counts)), counts)
            self._lines = (line_of, prose_lines[line_of], np.concatenate(([0], np.cumsum(ends))).astype(np.int64))
        return self._lines


@dataclass(frozen=True, slots=True)
class Facts:
    """A document's facts for the template test's bound: whether no shingle repeats, its
    tokens on prose lines, its shingle size."""

    distinct: bool
    prose_tokens: int
    size: int

    def most_own(self, own_shingles: int) -> int | None:
        """At most how many words are own when ``own_shingles`` of the document's shingle set
        are outside the other (None when shingles repeat). Each own token lies in a window
        starting at it (or the last window, for the last ``size - 1`` tokens) that is outside
        the other, and windows are distinct positions when no shingle repeats."""
        return own_shingles + self.size - 1 if self.distinct else None


def own_text(text: str, other: NDArray[np.uint64], config: ScanConfig, seq: Sequence3 | None = None) -> OwnText:
    """The words of ``text`` that no shingle of ``other`` (a sorted shingle set) covers, and
    the runs of them that are prose (see the module docstring)."""
    return own_of(Layout(text, config, seq), other)


def own_of(layout: Layout, other: NDArray[np.uint64], in_other: NDArray[np.bool_] | None = None) -> OwnText:
    """``own_text`` of a document laid out once (``Layout``); ``in_other``: which of its
    windows ``other`` holds, when the caller knows."""
    win, n, size = layout.windows, layout.tokens, layout.size
    if n == 0:
        return OwnText(0, ())
    if in_other is None:
        in_other = _member(win, other)
    own = ~_covered(in_other, n, size) if len(win) else np.ones(n, bool)
    words = int(np.count_nonzero(own))
    if words < MIN_RUN:
        return OwnText(words, ())
    line_of, prose_tokens, ends_before = layout.lines()
    candidate = own & prose_tokens
    edges = np.flatnonzero(np.diff(np.concatenate(([0], candidate.view(np.int8), [0]))))
    runs = []
    for start, stop in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        if stop - start < MIN_RUN:
            continue
        first, last = int(line_of[start]), int(line_of[stop - 1])
        if int(ends_before[last + 1] - ends_before[first]) < SENTENCES:
            continue
        inside = win[start : max(start, stop - size + 1)] if len(win) else win
        runs.append(Run(stop - start, _distinct(inside)))
    return OwnText(words, tuple(runs), int(np.count_nonzero(prose_tokens & ~own)))


def distinct_pages(
    a: int,
    b: int,
    shingles: ShingleSets,
    text_of: Callable[[int], str],
    config: ScanConfig,
    inter: int,
    layout_of: Callable[[int], Layout] | None = None,
    facts_of: Callable[[int], Facts] | None = None,
) -> bool:
    """True when documents a and b each hold ``TEMPLATE_WORDS`` words of own prose the other
    lacks, and at least ``TEMPLATE_SHARE`` of the shingles they share or ``PROSE_SHARE`` of
    the prose they share: two pages sharing a template (or a long quote), not two copies of
    one text.

    Texts are read only when both sets have enough shingles outside the other to hold
    such a run (``inter`` is the size of their intersection); ``layout_of`` gives a
    document's ``Layout`` (verify keeps them per document), else it is made from the text;
    ``facts_of`` its ``Facts``, else they come from the layout.
    The side with fewer shingles of its own, the likelier to fall short, is measured first."""
    x, y = shingles.get(a), shingles.get(b)
    need = TEMPLATE_WORDS - config.shingle_size + 1
    if len(x) - inter < need or len(y) - inter < need:
        return False
    lay = layout_of if layout_of is not None else (lambda i: Layout(text_of(i), config))
    first, second = ((a, y, len(x)), (b, x, len(y))) if len(x) <= len(y) else ((b, x, len(y)), (a, y, len(x)))
    facts = facts_of if facts_of is not None else (lambda i: lay(i).facts())
    for doc, other, size in (first, second):
        known = facts(doc)
        most = known.most_own(size - inter)  # a bound that settles most copies without measuring
        if most is not None and (
            most < TEMPLATE_WORDS
            or (most < TEMPLATE_SHARE * inter and most < PROSE_SHARE * (known.prose_tokens - most))
        ):
            return False
        own = own_of(lay(doc), other)
        words = own.prose_words
        if words < TEMPLATE_WORDS or (words < TEMPLATE_SHARE * inter and words < PROSE_SHARE * own.shared_prose):
            return False
    return True


def holders(query: NDArray[np.uint64], shingles: ShingleSets, step: int = 4096) -> NDArray[np.int64]:
    """How many documents of the run hold each hash of ``query`` (sorted, unique): one pass
    over every set (a set holds a hash at most once)."""
    counts = np.zeros(len(query), np.int64)
    if len(query) == 0:
        return counts
    # A table of the query's low bits passes every hash of the query and few others (the
    # hashes are mixed), so the binary search runs on a small share of the corpus's hashes.
    bits = min(26, max(16, len(query).bit_length() + 4))
    mask = np.uint64((1 << bits) - 1)
    table = np.zeros(1 << bits, bool)
    table[(query & mask).astype(np.intp)] = True

    def add(values: NDArray[np.uint64]) -> None:
        values = values[table[(values & mask).astype(np.intp)]]
        if len(values) == 0:
            return
        pos = np.minimum(np.searchsorted(query, values), len(query) - 1)
        hit = query[pos] == values
        counts[:] += np.bincount(pos[hit], minlength=len(query))

    n = len(shingles)
    for at in range(0, n, step):  # a slice of documents at a time (in memory, or read from disk)
        add(shingles.hashes_of(at, min(n, at + step)))
    return counts


Loader = Callable[[int], str]


@dataclass(frozen=True, slots=True)
class Owned:
    """Members' own texts against one kept copy, measured where the texts were at hand (the
    ranking's workers) so that ``measure`` need not re-read and lay them out again.
    ``size`` and ``total`` (length and wrapped sum) identify the kept copy's shingle set:
    ``measure`` uses them only for the set it holds for that copy."""

    kept: int  # document index of the kept copy
    size: int
    total: int
    own: dict[int, OwnText]  # member document index -> its own text against the kept copy

    def merged(self, other: Owned) -> Owned:
        """Both sets of own texts (of one kept copy; an own text depends only on the two texts)."""
        return Owned(self.kept, self.size, self.total, {**self.own, **other.own})


def set_check(values: NDArray[np.uint64]) -> tuple[int, int]:
    """A shingle set's length and wrapped sum (see ``Owned``)."""
    return len(values), int(values.sum(dtype=np.uint64))


def owned(
    members: Sequence[int], texts: Sequence[str], seqs: Sequence[Sequence3], config: ScanConfig, first: int
) -> Owned:
    """``own_text`` of every member against the one at position ``first`` (the kept copy),
    from texts already hashed (``seqs``: their ``shingle.sequences``); a member with no
    shingle outside the kept copy is left out (``measure`` needs nothing of it)."""
    kept = _distinct(seqs[first][1])
    own: dict[int, OwnText] = {}
    for pos, index in enumerate(members):
        if pos == first:
            continue
        held = _member(seqs[pos][1], kept)
        if not bool(held.all()):
            own[index] = own_of(Layout(texts[pos], config, seqs[pos]), kept, held)
    size, total = set_check(kept)
    return Owned(members[first], size, total, own)


@dataclass(frozen=True, slots=True)
class _Pending:
    """A member whose own text holds prose runs: decided once the corpus has been asked."""

    cluster: int
    position: int
    own: OwnText


def measure(
    clusters: Sequence[Sequence[int]],
    shingles: ShingleSets,
    text_of: Loader,
    config: ScanConfig,
    known: Mapping[int, Owned] | None = None,
) -> list[list[Evidence]]:
    """The evidence of every member of every cluster (members in rank order, the kept copy first).

    Args:
        clusters: document indices per cluster, the kept copy first.
        shingles: the run's shingle sets (the corpus that is asked whether a passage recurs).
        text_of: a document's text by index (re-read from disk).
        config: shingle sizes.
        known: own texts already measured, by kept copy (``owned``); the rest are measured here.

    Returns:
        One list per cluster, one ``Evidence`` per member, in the same order.
    """
    out: list[list[Evidence]] = []
    pending: list[_Pending] = []
    for c, members in enumerate(clusters):
        kept = shingles.get(members[0])
        have = None if known is None else known.get(members[0])
        ready = {} if have is None or (have.size, have.total) != set_check(kept) else have.own
        found = [KEPT]
        for pos, index in enumerate(members[1:], start=1):
            mine = shingles.get(index)
            own_shingles = len(mine) - int(np.count_nonzero(_member(mine, kept)))
            if own_shingles == 0:
                found.append(Evidence(0, 0, "drop"))
                continue
            own = ready.get(index)
            if own is None:
                own = own_text(text_of(index), kept, config)
            found.append(Evidence(own.words, own.words - own.prose_words, "drop"))  # runs: decided below
            if own.runs:
                pending.append(_Pending(c, pos, own))
        out.append(found)
    if not pending:
        return out
    query = np.unique(np.concatenate([r.shingles for p in pending for r in p.own.runs]))
    total = holders(query, shingles)
    for c in sorted({p.cluster for p in pending}):
        _decide(c, [p for p in pending if p.cluster == c], clusters[c], query, total, shingles, out[c])
    return out


def _decide(
    c: int,
    pending: list[_Pending],
    members: Sequence[int],
    query: NDArray[np.uint64],
    total: NDArray[np.int64],
    shingles: ShingleSets,
    found: list[Evidence],
) -> None:
    """Decide the pending members of one cluster, in rank order (see the module docstring)."""
    sets = [shingles.get(i) for i in members]
    supersets: list[NDArray[np.uint64]] = []
    for p in pending:
        unique = 0
        for run in p.own.runs:
            pos = np.searchsorted(query, run.shingles)
            inside = sum(_member(run.shingles, s) for s in sets)  # cluster members holding each
            outside = total[pos] - inside
            held = outside > 0
            for s in supersets:
                held |= _member(run.shingles, s)
            if len(run.shingles) and np.count_nonzero(held) >= ELSEWHERE_SHARE * len(run.shingles):
                continue
            unique += run.words
        decision: Literal["drop", "superset"] = "superset" if unique >= SUPERSET_WORDS else "drop"
        if decision == "superset":
            supersets.append(sets[p.position])
        found[p.position] = Evidence(p.own.words, p.own.words - unique, decision)
