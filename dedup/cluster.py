"""Stage 7: verified matches -> groups of copies.

In:  ``Match`` records, and for the star mode a ranking of documents (cleanest first).
Out: groups as sorted tuples of document indices, ordered by their smallest index.

* ``components``: connected components of all matches (union-find). Simple, but chains:
  A~B and B~C put A and C together even when A and C share nothing (two short articles
  on one site template, each contained in the same long page).
* ``star`` (default): inside each component, the best-ranked document becomes a centre and
  takes the documents that match *it* directly; the rest are grouped again the same way.
  Every member of a group is then a verified near-duplicate of the group's centre.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from .config import ClusterMode
from .records import Match

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


def star_split(group: Group, neighbours: dict[int, set[int]], rank: Ranker) -> list[Group]:
    """Split one connected group into stars around its best-ranked documents."""
    members = set(group)
    centre = rank(group)[0]
    star = {centre} | (neighbours.get(centre, set()) & members)
    out = [tuple(sorted(star))] if len(star) > 1 else []
    # What is left may have fallen apart: split it into components and start again.
    for comp in _subcomponents(members - star, neighbours):
        out.extend(star_split(comp, neighbours, rank))
    return sorted(out, key=lambda g: g[0])


def _subcomponents(nodes: set[int], neighbours: dict[int, set[int]]) -> list[Group]:
    seen: set[int] = set()
    comps: list[Group] = []
    for start in sorted(nodes):
        if start in seen:
            continue
        stack, comp = [start], []
        seen.add(start)
        while stack:
            x = stack.pop()
            comp.append(x)
            for y in neighbours.get(x, set()) & nodes:
                if y not in seen:
                    seen.add(y)
                    stack.append(y)
        if len(comp) > 1:
            comps.append(tuple(sorted(comp)))
    return comps


def cluster(n_docs: int, matches: Sequence[Match], mode: ClusterMode, rank: Ranker) -> list[Group]:
    """Group documents by the chosen mode; see the module docstring."""
    groups = components(n_docs, matches)
    if mode == "components":
        return groups
    neighbours: dict[int, set[int]] = {}
    for m in matches:
        neighbours.setdefault(m.a, set()).add(m.b)
        neighbours.setdefault(m.b, set()).add(m.a)
    out: list[Group] = []
    for g in groups:
        out.extend(star_split(g, neighbours, rank))
    return sorted(out, key=lambda g: g[0])
