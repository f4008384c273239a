"""`dedup scan --engine ray --output DIR/` writes the results as Parquet shards (clusters, and
one row per document with its decision) that load in pyarrow and hold what the single-file
exports hold; a folder that is not new or empty, or DIR/ without --engine ray, stops before the
scan. A local Ray with 2 CPUs for the module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import started_ray

from dedup import __version__, scan
from dedup.cli import main
from dedup.config import ScanConfig
from dedup.corpus import generate
from dedup.decisions import write_decisions
from dedup.export import write_export

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'dedup[ray]')")
pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed (pip install 'dedup[parquet]')")
from dedup.ray_output import write_shards  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    with started_ray():
        yield


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus") / "c"
    generate(root, seed=5)
    return root


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["scan", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_shards_load_in_pyarrow_and_match_the_single_file_exports(corpus: Path, tmp_path: Path) -> None:
    local = tmp_path / "local"
    local.mkdir()
    code, out = run(str(corpus), "-q", "-j", "2", "--no-cache", "--output", str(local / "clusters.json"),
                    "--decisions", str(local / "decisions.parquet"))  # fmt: skip
    assert (code, out) == (0, "")
    code, out = run(str(corpus), "-q", "-j", "2", "--no-cache", "--output", str(local / "clusters.parquet"))
    assert (code, out) == (0, "")
    shards = tmp_path / "shards"
    code, out = run(str(corpus), "-q", "-j", "2", "--no-cache", "--engine", "ray", "--output", f"{shards}/")
    assert (code, out) == (0, "")
    assert sorted(str(p.relative_to(shards)) for p in shards.rglob("*") if p.is_file()) == [
        "clusters.json", "clusters/part-00000.parquet", "decisions/part-00000.parquet"]  # fmt: skip
    clusters = pq.read_table(shards / "clusters")  # the folder as one dataset
    assert clusters.num_rows > 100
    assert clusters.equals(pq.read_table(local / "clusters.parquet"))
    decisions = pq.read_table(shards / "decisions")
    assert decisions.equals(pq.read_table(local / "decisions.parquet"))
    assert set(decisions.column("decision").to_pylist()) >= {"unique", "kept", "dropped"}
    assert (shards / "clusters.json").read_bytes() == (local / "clusters.json").read_bytes()


def test_many_shards_concatenate_to_the_single_table(corpus: Path, tmp_path: Path) -> None:
    result = scan(corpus, ScanConfig(jobs=2), engine_name="ray")
    written = write_shards(result, tmp_path / "out", version=__version__, rows_per_shard=50)
    parts = [p for p in written if p.parts[0] == "clusters"]
    assert len(parts) > 3
    assert [p.name for p in parts] == [f"part-{k:05d}.parquet" for k in range(len(parts))]
    write_export(result, tmp_path / "one.parquet", version=__version__)
    write_decisions(result, tmp_path / "one-decisions.parquet")
    joined = [pq.read_table(tmp_path / "out" / p) for p in parts]
    assert all(t.num_rows <= 50 for t in joined)
    assert pq.read_table(tmp_path / "out" / "clusters").equals(pq.read_table(tmp_path / "one.parquet"))
    assert pq.read_table(tmp_path / "out" / "decisions").equals(pq.read_table(tmp_path / "one-decisions.parquet"))


def test_an_empty_result_still_has_a_shard_with_the_schema(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    (root / "a.txt").write_text("one lonely document of a few words\n")
    result = scan(root, ScanConfig(jobs=2), engine_name="ray")
    write_shards(result, tmp_path / "out", version=__version__)
    table = pq.read_table(tmp_path / "out" / "clusters")
    assert table.num_rows == 0 and "cluster" in table.column_names
    assert pq.read_table(tmp_path / "out" / "decisions").column("decision").to_pylist() == ["unique"]


def test_a_folder_that_holds_files_is_refused_before_the_scan(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    code, text = run(str(corpus), "-q", "--no-cache", "--engine", "ray", "--output", f"{out}/")
    assert code == 2
    assert text == f"Error: {out} is not empty: give --output DIR/ a new or empty folder\n"
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    assert (out / "mine.txt").read_text() == "keep me"


def test_an_empty_folder_is_filled(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    code, text = run(str(corpus), "-q", "-j", "2", "--no-cache", "--engine", "ray", "--output", str(out))
    assert (code, text) == (0, "")
    assert (out / "clusters" / "part-00000.parquet").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_a_shard_folder_needs_the_ray_engine(corpus: Path, tmp_path: Path) -> None:
    code, text = run(str(corpus), "-q", "--no-cache", "--output", f"{tmp_path / 'out'}/")
    assert code == 2
    assert text == "Error: --output DIR/ (a folder of Parquet shards) needs --engine ray\n"
    assert not (tmp_path / "out").exists()
