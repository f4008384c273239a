"""A scan whose Ray engine starts its own local Ray (as `dedup scan --engine ray` does) keeps
the candidate pairs in the object store from the candidate stage to the verify tasks: the
run's process never fetches them (``KeptPairs.gather`` is the one way they come to it, and
it fails here if called), the components are split into stars in the tasks (``cluster.stars``
fails in the run's process), and the exports are the local engine's byte for byte: on the
synthetic corpus, on a chain of overlapping windows of one text that the star split cuts
into several groups, and on pages of one site that the candidates link through their frame
and the template test keeps apart. No Ray is running before each test: the scan starts and
stops its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_evidence import prose
from test_template_pages import page

from dedup import ScanResult, __version__, cluster, export, scan
from dedup.config import ScanConfig
from dedup.corpus import generate
from dedup.kept import KeptPairs
from dedup.options import RunOptions

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'dedup[ray]')")


def split_here(*args: object) -> object:
    """``cluster.stars`` in the run's process, which a Ray scan leaves to its tasks."""
    raise AssertionError("a component was split into stars in the run's process")


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
    monkeypatch.setattr(cluster, "stars", split_here)
    on_ray = scan(root, config, engine_name="ray")
    assert not ray.is_initialized()  # its own Ray, stopped with the scan
    assert on_ray.summary == local.summary and on_ray.matches == local.matches
    assert exported(on_ray, tmp_path / "ray.json") == exported(local, tmp_path / "local.json")


def same_on_ray(root: Path, config: ScanConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ScanResult:
    """The local scan of ``root``, after asserting the Ray scan (its own Ray, the pairs never
    fetched) gives its result and export."""
    local = scan(root, config)
    with monkeypatch.context() as patch:
        patch.setattr(KeptPairs, "gather", lambda self: pytest.fail("candidate pairs fetched to the run's process"))
        patch.setattr(cluster, "stars", split_here)
        # Two files a hashing task: a run this small is otherwise hashed in the run's process,
        # its sets held there, and the pairs verified here.
        on_ray = scan(root, config, options=RunOptions(engine="ray", files_per_task=2))
    assert not ray.is_initialized()
    assert on_ray.clusters == local.clusters and on_ray.matches == local.matches
    assert exported(on_ray, tmp_path / "ray.json") == exported(local, tmp_path / "local.json")
    return local


@pytest.mark.slow
def test_a_component_the_star_split_cuts_into_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    words = prose(11, 2400).split()
    root = tmp_path / "windows"
    root.mkdir()
    for k in range(8):  # each window shares 460 of its 500 words with the next: a chain
        (root / f"w{k}.txt").write_text(" ".join(words[k * 40 : k * 40 + 500]), encoding="utf-8")
    whole = scan(root, ScanConfig(jobs=2, cluster_mode="components"))
    assert [len(c.members) for c in whole.clusters] == [8]  # one component
    local = same_on_ray(root, ScanConfig(jobs=2), tmp_path, monkeypatch)
    assert len(local.clusters) >= 2 and sum(len(c.members) for c in local.clusters) < 8 + len(local.clusters)


@pytest.mark.slow
def test_pages_the_template_test_keeps_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "site"
    root.mkdir()
    for k in range(4):  # four pages of one frame, each saved twice
        text = page(200 + k)
        (root / f"page{k}.txt").write_text(text, encoding="utf-8")
        (root / f"page{k}-copy.txt").write_text(text.replace(" the ", " The ", 1) + "\n", encoding="utf-8")
    local = same_on_ray(root, ScanConfig(jobs=2), tmp_path, monkeypatch)
    assert local.summary.candidates > local.summary.matches  # the frame linked more than copies
    assert [sorted(m.doc_id for m in c.members) for c in local.clusters] == sorted(
        [f"page{k}-copy.txt", f"page{k}.txt"] for k in range(4)
    )
