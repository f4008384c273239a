"""Connected components on Ray (dedup/ray_components.py) equal the local union-find
(cluster.components): on random graphs, long chains, many partitions, and the verified
matches of a real scan. A local Ray with 2 CPUs for the module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import started_ray

from dedup import scan
from dedup.cluster import components as local_components
from dedup.config import ScanConfig
from dedup.corpus import generate
from dedup.records import Match

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'dedup[ray]')")
from dedup.ray_components import components  # noqa: E402  (imports ray's helper module)


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    with started_ray():
        yield


def as_matches(edges: np.ndarray) -> list[Match]:
    return [Match(int(min(a, b)), int(max(a, b)), 1.0, 1.0, "jaccard") for a, b in edges.tolist()]


def random_graph(seed: int, n: int, m: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    edges = rng.integers(0, n, size=(m, 2))
    kept: np.ndarray = edges[edges[:, 0] != edges[:, 1]]
    return kept


@pytest.mark.parametrize(("seed", "partitions"), [(0, 2), (1, 3), (2, 5), (3, 8)])
def test_random_graphs_give_the_local_components(seed: int, partitions: int) -> None:
    n = 3000
    edges = random_graph(seed, n, 1200)
    groups, rounds = components(edges, n, partitions=partitions)
    assert groups == local_components(n, as_matches(edges))
    assert rounds >= 2 and len(groups) > 100


def test_a_long_chain_is_one_component_after_as_many_rounds() -> None:
    chain = np.stack([np.arange(39, 0, -1), np.arange(40, 1, -1)], axis=1)  # 1-2-...-40, listed backwards
    edges = np.concatenate([chain, [[100, 200], [300, 200]]])
    groups, rounds = components(edges, 400, partitions=3)
    assert groups == [tuple(range(1, 41)), (100, 200, 300)]
    assert groups == local_components(400, as_matches(edges))
    assert rounds >= 39  # min-label propagation moves a label one link a round


def test_no_edges_no_components() -> None:
    assert components(np.zeros((0, 2), np.int64), 10, partitions=2) == ([], 1)


def test_an_edge_outside_the_documents_is_refused() -> None:
    with pytest.raises(ValueError, match=r"outside 0\.\.9"):
        components(np.array([[1, 10]]), 10)


def test_the_matches_of_a_real_scan_give_its_components(tmp_path: Path) -> None:
    generate(tmp_path / "c", seed=2)
    result = scan(tmp_path / "c", ScanConfig(jobs=1))
    edges = np.array([[m.a, m.b] for m in result.matches], dtype=np.int64)
    n = len(result.docs)
    groups, _ = components(edges, n, partitions=4)
    assert groups == local_components(n, result.matches)
    assert len(groups) > 50
