"""Stage 6: candidate pairs -> verified matches, on the real shingle sets.

In:  ``CandidatePairs`` from candidates.py, ``Shingles`` of the run.
Out: ``Match`` records for the pairs that pass a rule; never more than the candidates.

An LSH collision is only a reason to look: every pair is measured exactly here.

* ``jaccard``: |A ∩ B| / |A ∪ B| >= jaccard_threshold. Copies with light edits.
* ``containment``: |A ∩ B| / min(|A|, |B|) >= containment_threshold, when the smaller set
  has at least ``min_shingles`` shingles and is at least ``min_size_ratio`` of the larger.
  A copy wrapped in page chrome (samples 000 in 001: containment 0.998, Jaccard 0.53), or
  cut short. The two guards keep a comment widget or a one-line quote from attaching to
  every page that contains it.

Two measures on the texts widen the containment rule where the sets alone mislead; the
texts are re-read only for a pair that fails the rules above and reaches
``ScanConfig.look_containment``:

* the size guard in prose: the smaller is also big enough when it covers ``min_prose_ratio``
  of the larger's prose (tokens on lines of ``evidence.PROSE_LINE`` or more, not teasers).
  An article with its page's navigation, link lists and labels around it (an extractor's
  output inside its page's HTML, often under a tenth of its tokens) is most of that page's
  prose; a quote inside a roundup or another article, or a teaser of it, is not.
* the size guard on the article: the smaller is also big enough against the larger's text
  before a comments heading that it vouches for (``thread_size``): an article beside its own
  page that is mostly a readers' thread.
* containment in words: at least ``word_containment_threshold`` of the smaller document's
  words lie in a shingle the larger holds. One wrong character breaks every shingle over
  its word, so a copy with scattered small errors (OCR: ``rn`` for ``m``, ``1`` for ``l``,
  words split at line ends) loses five shingles per error but one word.

Either rule is overruled for pages of one template: when each of the two documents holds a
run of own prose (``evidence.TEMPLATE_WORDS`` words or more, in sentences, on lines that are
not links or teasers) that the other lacks, they are two documents that share a frame
(eight manual pages of one command family, two articles under one long site chrome), not
copies of one. A copy's differences are chrome, a cut, scattered edits or a dropped
sentence: on one side, or short. Texts are re-read for this only when both sets have enough
shingles outside the other to hold such a run, and each is laid out (tokens, windows, lines)
once per scan (``Layouts``, kept per reader of texts), not once per pair.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from . import evidence
from .config import ScanConfig
from .records import Match, MatchRule
from .sets import ShingleSets
from .thread_size import fits_article

#: Bytes of document layouts (shingle windows, line facts) one ``Layouts`` keeps for the
#: template test: a document met in many pairs, across the calls of one scan, is laid out once.
LAYOUT_BYTES = 64 << 20


class Layouts:
    """Document layouts by index, least recently used dropped past ``LAYOUT_BYTES``. A scan
    makes one and passes it to every ``verify`` call; a plain reader of texts gets one per call."""

    def __init__(self, text_of: Callable[[int], str], config: ScanConfig) -> None:
        self.text_of, self.config = text_of, config
        self.kept: OrderedDict[int, tuple[evidence.Layout, int]] = OrderedDict()
        self.bytes = 0
        self.known: dict[int, evidence.Facts] = {}  # small, never dropped: the bound asks every pair

    def facts(self, i: int) -> evidence.Facts:
        """A document's ``evidence.Facts``, laid out once however many pairs ask."""
        found = self.known.get(i)
        if found is None:
            found = self.known[i] = self(i).facts()
        return found

    def __call__(self, i: int) -> evidence.Layout:
        hit = self.kept.get(i)
        if hit is not None:
            self.kept.move_to_end(i)
            return hit[0]
        text = self.text_of(i)
        layout = evidence.Layout(text, self.config)
        cost = len(text) + 24 * layout.tokens  # the text, its windows, and line facts once asked
        self.kept[i] = (layout, cost)
        self.bytes += cost
        while self.bytes > LAYOUT_BYTES and len(self.kept) > 1:
            self.bytes -= self.kept.popitem(last=False)[1][1]
        return layout


def overlap(x: NDArray[np.uint64], y: NDArray[np.uint64]) -> int:
    """Size of the intersection of two sorted arrays of unique values."""
    if len(x) > len(y):
        x, y = y, x
    if len(x) == 0:
        return 0
    pos = np.searchsorted(y, x)
    pos[pos == len(y)] = 0
    return int(np.count_nonzero(y[pos] == x))


def similarity(x: NDArray[np.uint64], y: NDArray[np.uint64]) -> tuple[float, float]:
    """Exact (Jaccard, containment of the smaller set in the larger) of two shingle sets."""
    inter = overlap(x, y)
    union = len(x) + len(y) - inter
    small = min(len(x), len(y))
    return (inter / union if union else 0.0, inter / small if small else 0.0)


def judge(jaccard: float, containment: float, size_a: int, size_b: int, config: ScanConfig) -> MatchRule | None:
    """The rule a measured pair passes, or None: the whole decision, in one place."""
    if jaccard >= config.jaccard_threshold:
        return "jaccard"
    small, large = min(size_a, size_b), max(size_a, size_b)
    if (
        containment >= config.containment_threshold
        and small >= config.min_shingles
        and small >= config.min_size_ratio * large
    ):
        return "containment"
    return None


def needs_texts(jaccard: float, containment: float, size_a: int, size_b: int, config: ScanConfig) -> bool:
    """Whether a pair that ``judge`` turns down may pass a rule measured on the texts."""
    small = min(size_a, size_b)
    return (
        small >= config.min_shingles
        and containment >= config.look_containment
        and judge(jaccard, containment, size_a, size_b, config) is None
    )


def covered(layout: evidence.Layout, other: NDArray[np.uint64]) -> NDArray[np.bool_]:
    """Which of a document's tokens lie in at least one shingle of ``other`` (sorted)."""
    win, n, size = layout.windows, layout.tokens, layout.size
    if n == 0 or len(win) == 0 or len(other) == 0:
        return np.zeros(n, bool)
    pos = np.minimum(np.searchsorted(other, win), len(other) - 1)
    starts = np.flatnonzero(other[pos] == win)
    edges = np.bincount(starts, minlength=n + 1) - np.bincount(np.minimum(starts + size, n), minlength=n + 1)
    return np.asarray(np.cumsum(edges[:-1]) > 0)


def word_share(layout: evidence.Layout, other: NDArray[np.uint64]) -> float:
    """Share of a document's tokens that lie in a shingle of ``other``: containment in words."""
    return float(np.count_nonzero(covered(layout, other))) / layout.tokens if layout.tokens else 0.0


def prose_share(layout: evidence.Layout, other: NDArray[np.uint64]) -> float:
    """Share of a document's prose tokens (``evidence.PROSE_LINE``) that lie in a shingle of ``other``."""
    prose = layout.lines()[1]
    total = int(np.count_nonzero(prose))
    return int(np.count_nonzero(covered(layout, other) & prose)) / total if total else 0.0


def judge_texts(
    a: int,
    b: int,
    x: NDArray[np.uint64],
    y: NDArray[np.uint64],
    jaccard: float,
    containment: float,
    lay: Layouts,
    config: ScanConfig,
) -> MatchRule | None:
    """``judge``, and for a pair it turns down that ``needs_texts``, the containment rule with
    the size guard in prose and containment in words (module docstring); a and b index x and y."""
    rule = judge(jaccard, containment, len(x), len(y), config)
    if rule is not None or not needs_texts(jaccard, containment, len(x), len(y), config):
        return rule
    (small, small_set), (large, large_set) = sorted(((a, x), (b, y)), key=lambda d: (len(d[1]), d[0]))
    # Each text measure is held to the higher of its own bar and the set measure's: a user
    # who raises --containment or --min-size-ratio tightens both forms of the rule.
    if (
        len(small_set) < config.min_size_ratio * len(large_set)
        and prose_share(lay(large), small_set) < max(config.min_prose_ratio, config.min_size_ratio)
        and not fits_article(small_set, lay(large), config)  # a page's readers' thread
    ):
        return None
    if containment >= config.containment_threshold:
        return "containment"
    words = max(config.word_containment_threshold, config.containment_threshold)
    return "containment" if word_share(lay(small), large_set) >= words else None


def verify(
    pairs: NDArray[np.int64],
    shingles: ShingleSets,
    config: ScanConfig,
    text_of: Callable[[int], str] | Layouts | None = None,
) -> list[Match]:
    """Measure every candidate pair exactly and keep those that pass a rule.

    Args:
        pairs: (m, 2) document index pairs, a < b.
        shingles: the run's shingle sets.
        config: thresholds and guards.
        text_of: a document's text by index, to tell pages of one template apart (see the
            module docstring), or a ``Layouts`` kept across calls; None judges on the sets alone.

    Returns:
        Matches in the order of `pairs`.
    """
    matches: list[Match] = []
    lay = text_of if text_of is None or isinstance(text_of, Layouts) else Layouts(text_of, config)
    for a, b in pairs.tolist():
        x, y = shingles.get(a), shingles.get(b)
        inter = overlap(x, y)
        union = len(x) + len(y) - inter
        small = min(len(x), len(y))
        jac, con = (inter / union if union else 0.0), (inter / small if small else 0.0)
        rule = (
            judge(jac, con, len(x), len(y), config) if lay is None else judge_texts(a, b, x, y, jac, con, lay, config)
        )
        if rule is None:
            continue
        if lay is not None and evidence.distinct_pages(a, b, shingles, lay.text_of, config, inter, lay, lay.facts):
            continue
        matches.append(Match(a, b, jac, con, rule))
    return matches
