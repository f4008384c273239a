"""A scan whose Ray engine starts its own local Ray (as `dedup scan --engine ray` does) keeps
the candidate pairs in the object store from the candidate stage to the verify tasks: the
run's process never fetches them (``KeptPairs.gather`` is the one way they come to it, and
it fails here if called), and the exports are the local engine's byte for byte. No Ray is
running before each test: the scan starts and stops its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from dedup import ScanResult, __version__, export, scan
from dedup.config import ScanConfig
from dedup.corpus import generate
from dedup.kept import KeptPairs

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'dedup[ray]')")


def exported(result: ScanResult, out: Path) -> bytes:
    export.write_export(result, out, version=__version__)
    return out.read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["star", "components"])
def test_a_scan_on_its_own_ray_never_fetches_the_candidate_pairs(
    mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not ray.is_initialized()
    root = tmp_path / "c"
    generate(root, seed=2)
    config = ScanConfig(jobs=2, cluster_mode=mode)  # type: ignore[arg-type]
    local = scan(root, config)
    assert local.summary.clusters > 5

    def fetched(self: KeptPairs) -> object:
        raise AssertionError(f"{len(self)} candidate pairs fetched to the run's process")

    monkeypatch.setattr(KeptPairs, "gather", fetched)
    on_ray = scan(root, config, engine_name="ray")
    assert not ray.is_initialized()  # its own Ray, stopped with the scan
    assert on_ray.summary == local.summary and on_ray.matches == local.matches
    assert exported(on_ray, tmp_path / "ray.json") == exported(local, tmp_path / "local.json")
