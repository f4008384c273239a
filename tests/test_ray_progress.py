"""A scan on Ray shows bars with real totals for its candidate and components stages: the
candidate stage's tasks (ray_candidates.stage_tasks), the components' build and each round's
tasks, every bar advanced to its total. A local Ray with 2 CPUs for the module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import started_ray

from dedup import scan
from dedup.config import ScanConfig
from dedup.corpus import generate

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'dedup[ray]')")
from dedup import ray_components  # noqa: E402  (needs ray)


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    with started_ray(512):
        yield


class Bars:
    """A Progress that records each stage's total and how far it was advanced."""

    def __init__(self) -> None:
        self.stages: list[list[object]] = []  # [name, total, advanced]

    def start(self, stage: str, total: int | None) -> None:
        self.stages.append([stage, total, 0])

    def advance(self, n: int = 1) -> None:
        self.stages[-1][2] = int(self.stages[-1][2]) + n  # type: ignore[call-overload]

    def named(self, prefix: str) -> list[list[object]]:
        return [s for s in self.stages if str(s[0]).startswith(prefix)]


def test_components_show_the_build_and_each_round() -> None:
    chain = np.array([(i, i + 1) for i in range(9)], np.int64)  # one component, labels need rounds
    bars = Bars()
    groups, rounds = ray_components.components(chain, 12, partitions=3, progress=bars)
    assert groups == [tuple(range(10))]
    assert bars.stages[0] == ["finding clusters", 3 + 3, 6]
    assert [s[0] for s in bars.stages[1:]] == [f"finding clusters, round {k}" for k in range(1, rounds + 1)]
    assert all(s[1] == 6 and s[2] == 6 for s in bars.stages[1:])


def test_a_ray_scan_shows_candidate_and_cluster_bars_with_totals(tmp_path: Path) -> None:
    root = tmp_path / "c"
    generate(root, seed=2)
    bars = Bars()
    result = scan(root, ScanConfig(jobs=2), engine_name="ray", progress=bars)
    assert result.summary.clusters > 0
    candidates = [s for s in bars.named("finding candidates") if s[1] is not None]
    assert len(candidates) == 1
    [(_, total, done)] = candidates
    assert isinstance(total, int) and total > 0 and done == total
    clusters = bars.named("finding clusters")
    assert clusters and all(isinstance(s[1], int) and s[1] > 0 and s[2] == s[1] for s in clusters)
    names = [s[0] for s in bars.stages]
    assert names.index("finding clusters") < names.index("ranking copies")
