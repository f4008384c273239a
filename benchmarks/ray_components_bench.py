"""Connected components: the local union-find (cluster.components) against min-label
propagation on a local Ray (ray_components.components), on the same graph, in one run.

The graph looks like a scan's matches: N documents, of which DUP_SHARE are copies joined to
an earlier document of their group (groups of 2-20 documents, most of them stars, some
chains), by seed. Prints each method's time, the rounds Ray took, and whether the groups are
equal (exit 1 if not).

Usage:
    python benchmarks/ray_components_bench.py --docs 1000000 --partitions 4
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import ray

from dedup.cluster import components as local_components
from dedup.ray_components import components
from dedup.records import Match

DUP_SHARE = 0.1


def graph(n: int, seed: int) -> np.ndarray:
    """Edges (a < b) of groups of copies: each copy joined to its group's first document or to the copy before it."""
    rng = np.random.default_rng(seed)
    copies = int(n * DUP_SHARE)
    sizes = rng.integers(2, 21, size=copies // 5)
    edges: list[tuple[int, int]] = []
    docs = rng.permutation(n)
    at = 0
    for size in sizes.tolist():
        group = np.sort(docs[at : at + size]).tolist()
        at += size
        chain = rng.random() < 0.2
        edges.extend((group[i - 1] if chain else group[0], group[i]) for i in range(1, len(group)))
    return np.array(edges, dtype=np.int64)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    edges = graph(args.docs, args.seed)
    print(f"{args.docs:,} documents, {len(edges):,} edges")
    matches = [Match(int(a), int(b), 1.0, 1.0, "jaccard") for a, b in edges.tolist()]
    t = time.perf_counter()
    local = local_components(args.docs, matches)
    local_s = time.perf_counter() - t
    ray.init(num_cpus=args.cpus, include_dashboard=False, logging_level=logging.ERROR)
    try:
        ray.get(ray.remote(lambda: 0).remote())  # workers up: not part of the figure
        t = time.perf_counter()
        groups, rounds = components(edges, args.docs, partitions=args.partitions)
        ray_s = time.perf_counter() - t
    finally:
        ray.shutdown()
    same = groups == local
    print(
        f"local union-find: {local_s:.2f} s; Ray, {args.partitions} partitions on {args.cpus} CPUs: {ray_s:.2f} s, {rounds} rounds ({ray_s / local_s:.1f}x)"
    )
    print(f"{len(local):,} components; equal: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
