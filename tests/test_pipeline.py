"""scan() on real files: the samples, shuffled, spread over folders, with worker processes."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from conftest import OTHERS, PLAIN, SAMPLES, WRAPPED

from dedup import ScanConfig, scan
from dedup.records import ScanResult


def shape(result: ScanResult) -> list[list[str]]:
    """Clusters as lists of base names, cleanest first."""
    return [[Path(m.doc_id).name for m in c.members] for c in result.clusters]


def test_samples_one_cluster_plain_is_cleanest(samples_dir: Path) -> None:
    result = scan([samples_dir])
    assert shape(result) == [[PLAIN, WRAPPED]]
    cluster = result.clusters[0]
    assert cluster.cluster_id == 1
    plain, wrapped = cluster.members
    assert plain.cleanest and not wrapped.cleanest
    assert wrapped.containment > 0.99 and 0.5 < wrapped.jaccard < 0.56
    loser = " ".join(wrapped.reasons)
    assert "跳至主要内容" in loser and "teasers of other posts" in loser
    assert result.summary.documents == 5 and result.summary.files == 5
    assert result.summary.duplicates == 1
    assert result.summary.bytes_saved == (SAMPLES / WRAPPED).stat().st_size
    assert not any(Path(m.doc_id).name in OTHERS for c in result.clusters for m in c.members)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_order_and_folders_give_the_same_result(tmp_path: Path, seed: int) -> None:
    names = [PLAIN, WRAPPED, *OTHERS]
    random.Random(seed).shuffle(names)
    for i, name in enumerate(names):  # create in a shuffled order, spread over subfolders
        folder = tmp_path / f"site{i % 3}" / ("deep" if i % 2 else "")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / name, folder / name)
    result = scan([tmp_path])
    assert [sorted(c) for c in shape(result)] == [sorted([PLAIN, WRAPPED])]
    assert shape(result)[0][0] == PLAIN


def test_worker_count_does_not_change_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dedup.pipeline as pipeline

    monkeypatch.setattr(pipeline, "FILES_PER_TASK", 2)  # several tasks, so the pool is used
    for i in range(3):
        shutil.copytree(SAMPLES, tmp_path / f"copy{i}")
    one = scan([tmp_path], ScanConfig(jobs=1))
    two = scan([tmp_path], ScanConfig(jobs=2))
    assert one.clusters == two.clusters
    assert [d.doc_id for d in one.docs] == [d.doc_id for d in two.docs]


def test_components_mode_also_finds_the_pair(samples_dir: Path) -> None:
    assert shape(scan([samples_dir], ScanConfig(cluster_mode="components"))) == [[PLAIN, WRAPPED]]


def test_jaccard_alone_misses_the_wrapped_copy(samples_dir: Path) -> None:
    # The reason containment exists: with it switched off (threshold 1.0) the pair is lost.
    assert shape(scan([samples_dir], ScanConfig(containment_threshold=1.0))) == []
