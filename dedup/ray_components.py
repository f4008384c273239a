"""Connected components on Ray by min-label propagation, the labels kept on the workers.

The distributed form of ``cluster.components`` for a graph too large for one machine: the
nodes are split into ``partitions`` by ``node % partitions``; each partition's edges and
labels live in Ray's object store, and every round is two waves of tasks. A partition
sends each neighbour of its nodes its current label (a shuffle by the neighbour's
partition); a partition takes the smallest label it was sent for each node. When a round
changes no label, every node holds the smallest node index of its component: a label that
depends on the graph alone, so the groups (and their order) are those of the local
union-find whatever the partitioning (tests/test_ray_components.py holds it to that). Only
the finished labels come to the caller, to be made into groups.

Rounds grow with the longest shortest path in a component. The candidate stage joins a big
bucket as a chain with every member also linked to the first (``candidates.MAX_BUCKET``),
so a bucket costs two rounds; a chain of near-duplicates across buckets costs one round
a link. Data-Juicer's BTS union-find actors and NeMo Curator's cuGraph components trade
these rounds for a union-find per partition and rebalancing (see docs/scale.md).

``scan(..., engine_name="ray")`` finds its components here (``RayEngine.components``): the
verified matches go to the workers as edge blocks and only the final labels come back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .extras import require
from .progress import Progress

Group = tuple[int, ...]
I64 = NDArray[np.int64]


def scatter_edges(edges: I64, partitions: int) -> list[I64]:
    """Both directions of each edge, as (source, neighbour) rows, split by the source's partition."""
    both = np.concatenate([edges, edges[:, ::-1]]) if len(edges) else np.zeros((0, 2), np.int64)
    part = both[:, 0] % partitions
    return [both[part == p] for p in range(partitions)]


def build_partition(*pieces: I64) -> tuple[I64, I64, I64]:
    """A partition's directed edges, sorted by source, and its nodes with their first labels
    (each node its own)."""
    edges = np.concatenate(pieces) if pieces else np.zeros((0, 2), np.int64)
    edges = edges[np.lexsort((edges[:, 1], edges[:, 0]))]
    nodes = np.unique(edges[:, 0])
    return edges, nodes, nodes.copy()


def propose(edges: I64, nodes: I64, labels: I64, partitions: int) -> list[I64]:
    """Each neighbour gets its source's label: (neighbour, label) rows, split by the neighbour's partition."""
    label_of_source = labels[np.searchsorted(nodes, edges[:, 0])]
    messages = np.stack([edges[:, 1], label_of_source], axis=1)
    part = messages[:, 0] % partitions
    return [messages[part == p] for p in range(partitions)]


def absorb(nodes: I64, labels: I64, *inbox: I64) -> tuple[I64, int]:
    """A partition's labels lowered to the smallest it was sent; and how many changed."""
    new = labels.copy()
    if inbox:
        messages = np.concatenate(inbox)
        if len(messages):
            np.minimum.at(new, np.searchsorted(nodes, messages[:, 0]), messages[:, 1])
    return new, int(np.count_nonzero(new != labels))


def components(
    edges: I64, n_docs: int, *, partitions: int = 4, progress: Progress | None = None
) -> tuple[list[Group], int]:
    """Connected components of ``edges`` (an (m, 2) array of document indices) on Ray.

    Ray must be initialised (``ray.init`` or a ``RayEngine``); ``partitions`` is at least 2.
    ``progress`` gets the stage "finding clusters" (its tasks: the edges split and each
    partition built), then a stage a round, "finding clusters, round K" (its tasks: each
    partition's labels sent and taken). Returns the components with
    at least two members, each sorted and ordered by first member (as ``cluster.components``),
    and the number of rounds it took.

    Raises:
        ValueError: an edge outside ``0..n_docs-1``.
    """
    ray = require("ray", "ray", "--engine ray")
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if len(edges) and (edges.min() < 0 or edges.max() >= n_docs):
        raise ValueError(f"an edge outside 0..{n_docs - 1}")
    p = max(2, partitions)  # at least 2: Ray returns a one-element list as one object
    one = ray.remote(num_cpus=1, max_retries=3)
    scatter = one(scatter_edges).options(num_returns=p)
    build = one(build_partition).options(num_returns=3)
    send = one(propose).options(num_returns=p)
    take = one(absorb).options(num_returns=2)

    blocks = np.array_split(edges, p) if len(edges) else [edges]
    scattered = [scatter.remote(block, p) for block in blocks]
    parts: list[Sequence[Any]] = [build.remote(*[s[i] for s in scattered]) for i in range(p)]
    if progress is not None:
        progress.start("finding clusters", len(scattered) + p)
        count_done(ray, [s[0] for s in scattered] + [part[0] for part in parts], progress.advance)
    adjacency = [part[0] for part in parts]
    nodes = [part[1] for part in parts]
    labels = [part[2] for part in parts]
    rounds = 0
    while True:
        rounds += 1
        sent = [send.remote(adjacency[i], nodes[i], labels[i], p) for i in range(p)]
        taken = [take.remote(nodes[i], labels[i], *[s[i] for s in sent]) for i in range(p)]
        labels = [t[0] for t in taken]
        if progress is not None:
            progress.start(f"finding clusters, round {rounds}", 2 * p)
            count_done(ray, [s[0] for s in sent] + [t[1] for t in taken], progress.advance)
        if sum(ray.get([t[1] for t in taken])) == 0:  # the driver reads p small counts a round
            break
    return _groups(ray.get(nodes), ray.get(labels)), rounds


def count_done(ray: Any, refs: list[Any], advance: Callable[[int], None]) -> None:
    """``advance(n)`` as the tasks of ``refs`` (one ref each) finish; nothing is fetched here."""
    todo = list(refs)
    while todo:
        ready, todo = ray.wait(todo, num_returns=len(todo), timeout=0.2, fetch_local=False)
        if ready:
            advance(len(ready))


def _groups(nodes: list[I64], labels: list[I64]) -> list[Group]:
    """Components from the final labels (the one step that brings them together)."""
    all_nodes = np.concatenate(nodes) if nodes else np.zeros(0, np.int64)
    all_labels = np.concatenate(labels) if labels else np.zeros(0, np.int64)
    order = np.lexsort((all_nodes, all_labels))
    all_nodes, all_labels = all_nodes[order], all_labels[order]
    cuts = np.flatnonzero(np.diff(all_labels)) + 1
    groups = [tuple(g.tolist()) for g in np.split(all_nodes, cuts) if len(g) > 1]
    return sorted(groups, key=lambda g: g[0])
