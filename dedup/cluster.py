"""Stage 7: verified matches -> groups of copies.

In:  ``Match`` records; for the star mode, a ranking of each component (cleanest first) and,
     through ``Exact``, the shingle sets, to measure a centre against members directly.
Out: groups as sorted tuples of document indices, ordered by their smallest index.

* ``components``: connected components of all matches (union-find). Simple, but chains:
  A~B and B~C put A and C together even when A and C share nothing (two short articles
  on one site template, each contained in the same long page).
* ``star`` (default): each component is ranked once. Its best-ranked document is a centre.
  The centre is measured directly against every member of the component that no verified
  match links it to yet (on the shingle sets, judged by the verify stage itself), and the
  star is the centre with every member that matches it. The best-ranked member left is the
  next centre, under the same ranking, until none is left. So every member of a star is a
  verified near-duplicate of its centre, measured, never inferred through a chain; and N
  copies of one text form one star whatever N and whichever copy ranks first, though the
  candidates link a bucket of thousands of copies only as a chain (candidates.MAX_BUCKET)
  and may miss a pair.

A centre is measured against its whole component at once, through an inverted index of the
component's shingles (``ComponentIndex``): the work is the centre's actual overlaps, so N
copies cost time linear in N, and each window of a long run of overlapping text windows
costs only its few neighbours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from .config import ClusterMode, ScanConfig
from .records import Match
from .sets import ShingleSets

Group = tuple[int, ...]
Ranker = Callable[[Group], Sequence[int]]  # a group -> its members, best centre first


def components(n_docs: int, matches: Iterable[Match]) -> list[Group]:
    """Connected components with at least two members, each sorted, ordered by first member.

    Only documents that appear in a match are visited: a million unique documents cost
    nothing here.
    """
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    for m in matches:
        if not (0 <= m.a < n_docs and 0 <= m.b < n_docs):
            raise ValueError(f"match ({m.a}, {m.b}) outside 0..{n_docs - 1}")
        ra, rb = find(m.a), find(m.b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for i in sorted(parent):
        groups.setdefault(find(i), []).append(i)
    return sorted((tuple(g) for g in groups.values() if len(g) > 1), key=lambda g: g[0])


class ComponentIndex:
    """The shingles of a component's members sorted by hash, each with its member's position:
    one lookup gives a document's exact overlap with every member it shares a shingle with."""

    def __init__(self, shingles: ShingleSets, group: Group) -> None:
        sizes = shingles.sizes()[np.asarray(group, np.int64)]
        hashes = np.concatenate([shingles.get(i) for i in group])
        order = np.argsort(hashes, kind="stable")
        self.hashes = hashes[order]
        self.member = np.repeat(np.arange(len(group), dtype=np.int64), sizes)[order]

    def overlaps(self, x: NDArray[np.uint64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(positions of the members sharing a shingle with the sorted set x, |x ∩ member|)."""
        lo = np.searchsorted(self.hashes, x, side="left")
        runs = np.searchsorted(self.hashes, x, side="right") - lo
        total = int(runs.sum())
        if total == 0:
            empty = np.zeros(0, np.int64)
            return empty, empty
        # Positions lo[k] .. lo[k] + runs[k] - 1 for every k, laid end to end.
        at = np.arange(total, dtype=np.int64) + np.repeat(lo - (np.cumsum(runs) - runs), runs)
        found, counts = np.unique(self.member[at], return_counts=True)
        return found.astype(np.int64), counts.astype(np.int64)


Confirm = Callable[[NDArray[np.int64]], list[Match]]  # pairs (a < b) -> those verify accepts
# components, their rankings, the matches' neighbours -> each component's stars (None: split it here)
SplitMany = Callable[[Sequence["Group"], Sequence[Sequence[int]], dict[int, set[int]]], list["list[Group] | None"]]


class Exact:
    """Direct checks of a centre against many members, decided as the verify stage decides.

    The overlaps come from the component's index (exact: sets are unique sorted hashes, as
    ``verify.overlap`` assumes); a member that reaches neither the Jaccard threshold nor the
    containment at which verify looks at the texts (``ScanConfig.look_containment``) cannot
    match and is passed over. The pairs left go to ``confirm`` (the pipeline gives
    ``verify.verify``), so a star member passed the very rule and guards a candidate pair passes.
    """

    def __init__(self, shingles: ShingleSets, config: ScanConfig, confirm: Confirm) -> None:
        self.shingles, self.config, self.confirm = shingles, config, confirm
        self.sizes = shingles.sizes()
        #: Splits many components at once elsewhere (an engine's tasks): their stars, or None
        #: for one to split here; set by the scan when its engine offers it.
        self.many: SplitMany | None = None

    def index(self, group: Group) -> ComponentIndex:
        """The inverted index of one component."""
        return ComponentIndex(self.shingles, group)

    def matching(self, centre: int, group: Group, index: ComponentIndex, wanted: NDArray[np.bool_]) -> list[int]:
        """Positions in ``group`` of the members with ``wanted`` set that match ``centre``."""
        pos, inter = index.overlaps(self.shingles.get(centre))
        keep = wanted[pos]
        pos, inter = pos[keep], inter[keep]
        if len(pos) == 0:
            return []
        docs = np.asarray(group, np.int64)[pos]
        size_c = int(self.sizes[centre])
        size_m = self.sizes[docs]
        jac = inter / (size_c + size_m - inter)
        con = inter / np.maximum(np.minimum(size_c, size_m), 1)
        maybe = (jac >= self.config.jaccard_threshold) | (con >= self.config.look_containment)
        docs = docs[maybe]
        if len(docs) == 0:
            return []
        pairs = np.stack([np.minimum(docs, centre), np.maximum(docs, centre)], axis=1)
        confirmed = {m.a if m.b == centre else m.b for m in self.confirm(pairs)}
        where = {doc: p for doc, p in zip(docs.tolist(), pos[maybe].tolist(), strict=True)}
        return [where[doc] for doc in sorted(confirmed)]


def stars(group: Group, order: Sequence[int], neighbours: dict[int, set[int]], exact: Exact | None) -> list[Group]:
    """Split one component into stars around its members in ranking order (module docstring).

    Without ``exact`` only the verified matches are known: a star is its centre's matches.
    """
    where = {doc: pos for pos, doc in enumerate(group)}
    left = np.ones(len(group), bool)
    remaining = len(group)
    index: ComponentIndex | None = None
    ranked = list(dict.fromkeys(d for d in order if d in where))
    if len(ranked) < len(group):  # a ranker that left members out: they come last
        seen = set(ranked)
        ranked += [d for d in group if d not in seen]
    out: list[Group] = []
    for centre in ranked:
        if not left[where[centre]]:
            continue
        left[where[centre]] = False
        remaining -= 1
        star = [centre]
        for doc in neighbours.get(centre, ()):
            if doc in where and left[where[doc]]:
                left[where[doc]] = False
                remaining -= 1
                star.append(doc)
        if exact is not None and remaining:
            if index is None:
                index = exact.index(group)
            for pos in exact.matching(centre, group, index, left):
                left[pos] = False
                remaining -= 1
                star.append(group[pos])
        if len(star) > 1:
            out.append(tuple(sorted(star)))
        if not remaining:
            break
    return out


def cluster(
    n_docs: int,
    matches: Sequence[Match],
    mode: ClusterMode,
    rank: Ranker,
    exact: Exact | None = None,
    parents: Sequence[Group] | None = None,
) -> list[Group]:
    """Group documents by the chosen mode; see the module docstring.

    Args:
        n_docs: documents in the run (matches index into them).
        matches: the verified matches.
        mode: ``star`` or ``components``.
        rank: a component -> its members, best centre first; called once per component
            with more than two members, in star mode.
        exact: measures a centre against members no match links it to; without it a star
            holds only the centre's verified matches.
        parents: ``components(n_docs, matches)`` when the caller has them already (found
            by an engine); they are not found again.

    Returns:
        Sorted groups of two or more, ordered by their first member.
    """
    groups = list(parents) if parents is not None else components(n_docs, matches)
    if mode == "components":
        return groups
    neighbours: dict[int, set[int]] = {}
    for m in matches:
        neighbours.setdefault(m.a, set()).add(m.b)
        neighbours.setdefault(m.b, set()).add(m.a)
    out: list[Group] = []
    split: dict[Group, list[Group]] = {}
    if exact is not None and exact.many is not None:  # split elsewhere, all at once
        big = [g for g in groups if len(g) > 2]
        found = exact.many(big, [rank(g) for g in big], neighbours) if big else []
        split = {g: s for g, s in zip(big, found, strict=True) if s is not None}
    for g in groups:
        if len(g) == 2:
            out.append(g)  # one match: nothing to split, nothing to rank for it
            continue
        out.extend(split[g] if g in split else stars(g, rank(g), neighbours, exact))
    return sorted(out, key=lambda g: g[0])


def within(groups: Sequence[Group], parents: Sequence[Group]) -> dict[Group, Group]:
    """{group: the component it was cut from} for groups that are a strict part of one."""
    parent_of = {doc: p for p in parents for doc in p}
    return {g: parent_of[g[0]] for g in groups if parent_of[g[0]] != g}
