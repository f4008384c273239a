"""Inputs by URL (dedup/ray_input.py): a ``file://`` URL scans as the folder it names, a local
folder of Parquet shards scans on Ray as on the local engine, a ``*`` in a URL's last part picks
shards, and a pyarrow filesystem that is not the local one is copied into a temporary folder
whose ids are those of a local copy. A local Ray with 2 CPUs for the module. (s3:// against a
real S3 API: tests/test_ray_s3.py.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import started_ray

from dedup import scan
from dedup.cli import main
from dedup.config import ScanConfig
from dedup.corpus import generate
from dedup.errors import InputError

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'dedup[ray]')")
pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install 'dedup[parquet]')")
pafs = pytest.importorskip("pyarrow.fs")
pq = pytest.importorskip("pyarrow.parquet")

from dedup.ray_input import Fetched, copy_tree, is_url, normal_url  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    with started_ray():
        yield


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic corpus's texts as four Parquet shards (id, text), and a stray file."""
    base = tmp_path_factory.mktemp("shards")
    generate(base / "c", seed=6)
    files = sorted(p for p in (base / "c").rglob("*") if p.is_file())
    texts = [(str(p.relative_to(base / "c")), p.read_text(errors="replace")) for p in files]
    root = base / "crawl"
    root.mkdir()
    for k in range(4):
        part = texts[k::4]
        table = pa.table({"id": [t[0] for t in part], "text": [t[1] for t in part]})
        pq.write_table(table, root / f"part-{k:05d}.parquet")
    (root / "README.txt").write_text("not a shard")
    return root


def test_urls_are_told_from_paths() -> None:
    assert is_url("file:///tmp/x") and is_url(Path("file:///tmp/x")) and is_url("s3://bucket/key")
    assert not is_url("/tmp/x") and not is_url("C:/data") and not is_url("-") and not is_url("notes:today.txt")
    assert normal_url(Path("file:///tmp/x")) == "file:///tmp/x"
    assert normal_url("S3://bucket/crawl/") == "s3://bucket/crawl/"


def test_a_folder_of_parquet_shards_gives_the_same_export_on_ray(shards: Path, tmp_path: Path) -> None:
    config = ScanConfig(jobs=2, include=("*.parquet",))
    local = scan(shards, config)
    on_ray = scan(shards, config, engine_name="ray")
    assert local.summary.documents > 300 and len(local.clusters) > 20
    assert on_ray.clusters == local.clusters and on_ray.docs == local.docs


def test_a_file_url_scans_as_its_folder(shards: Path, tmp_path: Path) -> None:
    def export(root: str, out: Path, *engine: str) -> bytes:
        args = ["scan", root, "-q", "-j", "2", "--no-cache", "--include", "*.parquet", *engine, "--output", str(out)]
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert (result.exit_code, result.output) == (0, "")
        return out.read_bytes()

    local = export(str(shards), tmp_path / "local.json")
    assert export(f"file://{shards}", tmp_path / "url.json", "--engine", "ray") == local
    assert json.loads(local)["roots"] == [str(shards)]


def test_a_pattern_in_the_url_picks_the_shards(shards: Path) -> None:
    fetched = Fetched()
    roots = fetched.local([f"file://{shards}/part-0000[12].parquet"])
    assert roots == [shards / "part-00001.parquet", shards / "part-00002.parquet"]
    with pytest.raises(InputError, match="no file matches"):
        fetched.local([f"file://{shards}/*.jsonl"])


def test_another_filesystem_is_copied_under_its_own_name(shards: Path, tmp_path: Path) -> None:
    """A SubTreeFileSystem is not the local one: its folder is copied, then scanned as a copy."""
    remote = pafs.SubTreeFileSystem(str(shards.parent), pafs.LocalFileSystem())
    copy = copy_tree(remote, "crawl", tmp_path)
    assert copy == tmp_path / "crawl"
    assert sorted(p.name for p in copy.iterdir()) == sorted(p.name for p in shards.iterdir())
    config = ScanConfig(jobs=2, include=("*.parquet",))
    assert scan(copy, config, engine_name="ray").clusters == scan(shards, config).clusters
    assert copy_tree(remote, "crawl", tmp_path) == tmp_path / "2-crawl"  # a second root of that name
    with pytest.raises(InputError, match="no such file or folder"):
        copy_tree(remote, "nothing-here", tmp_path)
    for p in shards.iterdir():  # the source is read, never changed
        assert p.stat().st_size > 0


def test_a_missing_file_url_is_one_error_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["scan", f"file://{tmp_path}/missing", "-q", "--no-cache"])
    assert result.exit_code != 0
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
