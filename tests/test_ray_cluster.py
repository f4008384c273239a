"""The Ray engine finds the scan's connected components on its workers (ray_components), not
with the local union-find, and the clusters are the local engine's: ``RayEngine.components``
equals ``cluster.components`` on a real scan's matches, and scans in both cluster modes give
the same clusters. A local Ray with 2 CPUs for the module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import started_ray

from dedup import scan
from dedup.cluster import components as local_components
from dedup.config import ScanConfig
from dedup.corpus import generate
from dedup.engine import Components, make_engine

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'dedup[ray]')")


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    with started_ray():
        yield


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus") / "c"
    generate(root, seed=3)
    return root


def test_the_ray_engine_finds_components_as_the_union_find_does(corpus: Path) -> None:
    result = scan(corpus, ScanConfig(jobs=2))
    assert len(result.matches) > 100
    with make_engine("ray", 2) as engine:
        assert isinstance(engine, Components)
        groups = engine.components(len(result.docs), result.matches)
        assert engine.components(len(result.docs), []) == []
    assert groups == local_components(len(result.docs), result.matches)
    assert any(len(g) > 2 for g in groups)


def test_the_local_engine_keeps_the_union_find() -> None:
    with make_engine("local", 1) as engine:
        assert not isinstance(engine, Components)


@pytest.mark.parametrize("mode", ["star", "components"])
def test_scans_in_either_cluster_mode_give_the_local_clusters(corpus: Path, mode: str) -> None:
    config = ScanConfig(jobs=2, cluster_mode=mode)  # type: ignore[arg-type]
    local = scan(corpus, config)
    on_ray = scan(corpus, config, engine_name="ray")
    assert on_ray.clusters == local.clusters
    assert on_ray.matches == local.matches
    assert on_ray.summary == local.summary
