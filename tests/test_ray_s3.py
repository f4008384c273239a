"""Inputs by ``s3://`` URL against a real S3 API: moto's server (``ThreadedMotoServer``) serves
S3 over HTTP on 127.0.0.1, and pyarrow's S3 filesystem reaches it through ``AWS_ENDPOINT_URL``
as it would reach a bucket. A folder and a pattern of Parquet shards in the bucket scan as
their local copies do, on both engines, byte for byte the same export; a key that names
nothing is one error line. A local Ray with 2 CPUs for the module. Needs the s3test extra
(moto[server]); skipped without it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import s3_bucket, started_ray

from dedup import ScanResult, __version__, export, scan
from dedup.cli import main
from dedup.config import ScanConfig
from dedup.corpus import generate

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'dedup[ray]')")
pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install 'dedup[parquet]')")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("moto.server", reason="moto is not installed (pip install 'dedup[s3test]')")
pytest.importorskip("boto3", reason="boto3 is not installed (pip install 'dedup[s3test]')")

BUCKET = "crawl-bucket"


@pytest.fixture(scope="module")
def local_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic corpus as files, and as four Parquet shards (id, text) beside it."""
    base = tmp_path_factory.mktemp("s3src")
    generate(base / "c", seed=7)
    files = sorted(p for p in (base / "c").rglob("*") if p.is_file())
    texts = [(str(p.relative_to(base / "c")), p.read_text(errors="replace")) for p in files]
    (base / "shards").mkdir()
    for k in range(4):
        part = texts[k::4]
        pq.write_table(pa.table({"id": [t[0] for t in part], "text": [t[1] for t in part]}),
                       base / "shards" / f"part-{k:05d}.parquet")  # fmt: skip
    return base


@pytest.fixture(scope="module")
def bucket(local_folder: Path) -> Iterator[str]:
    """An S3 endpoint on 127.0.0.1 holding the files of ``local_folder`` under the same keys;
    the environment points pyarrow (and boto3) at it for the module."""
    files = {
        p.relative_to(local_folder).as_posix(): p.read_bytes() for p in sorted(local_folder.rglob("*")) if p.is_file()
    }
    with s3_bucket(BUCKET, files), started_ray():
        yield BUCKET


def exported(result: ScanResult, out: Path) -> bytes:
    """The JSON export, decision table included: it names each file by its URL, never the
    local copy the scan read (a temporary folder whose name changes from run to run)."""
    export.write_export(result, out, version=__version__)
    data = out.read_bytes()
    assert b"dedup-inputs-" not in data and b'"absolute": "s3://' in data
    return data


def test_a_folder_in_a_bucket_scans_as_its_local_copy(bucket: str, local_folder: Path, tmp_path: Path) -> None:
    config = ScanConfig(jobs=2)
    here = scan(local_folder / "c", config)
    assert here.summary.clusters > 5
    local = scan(f"s3://{bucket}/c", config)
    on_ray = scan(f"s3://{bucket}/c", config, engine_name="ray")
    assert local.roots == on_ray.roots == (f"s3://{bucket}/c",)
    assert local.clusters == here.clusters and local.summary == here.summary
    assert on_ray.clusters == here.clusters and on_ray.matches == local.matches
    assert exported(on_ray, tmp_path / "ray.json") == exported(local, tmp_path / "local.json")
    for p in (local_folder / "c").rglob("*"):  # the bucket's source files are untouched here too
        assert not p.is_file() or p.stat().st_size > 0


def test_a_pattern_of_parquet_shards_in_a_bucket(bucket: str, local_folder: Path, tmp_path: Path) -> None:
    config = ScanConfig(jobs=2)
    here = scan(sorted((local_folder / "shards").glob("part-0000[123].parquet")), config)
    again = scan(url := f"s3://{bucket}/shards/part-0000[123].parquet", config)
    local = scan(url, config)
    assert again.clusters == local.clusters  # ids do not name the run's temporary folder
    on_ray = scan(url, config, engine_name="ray")
    assert local.roots == on_ray.roots == (url,)
    ids = [m.doc_id for c in local.clusters for m in c.members]
    assert ids and all(i.startswith(("part-00001.parquet:", "part-00002.parquet:", "part-00003.parquet:")) for i in ids)
    # The same documents and clusters as the local shards scanned by name: only the ids'
    # file part differs (there, the path as given; here, the name in the URL's folder).
    shards = str(local_folder / "shards") + "/"
    assert [[m.doc_id.removeprefix(shards) for m in c.members] for c in here.clusters] == [
        [m.doc_id for m in c.members] for c in local.clusters
    ]
    assert local.summary.clusters > 0 and on_ray.clusters == local.clusters
    assert exported(on_ray, tmp_path / "ray.json") == exported(local, tmp_path / "local.json")


def test_one_file_in_a_bucket_is_named_by_its_name(bucket: str, local_folder: Path) -> None:
    config = ScanConfig(jobs=2)
    url = f"s3://{bucket}/c/records.jsonl"
    first, second = scan(url, config), scan(url, config, engine_name="ray")
    assert first.roots == (url,) and first.summary.documents > 10
    ids = [d.doc_id for d in first.docs]
    assert ids == [d.doc_id for d in second.docs] and first.summary == second.summary
    assert all(i.startswith("records.jsonl:") for i in ids)


def test_a_key_that_names_nothing_is_one_error_line(bucket: str) -> None:
    result = CliRunner().invoke(main, ["scan", f"s3://{bucket}/missing", "-q", "--no-cache"])
    assert result.exit_code != 0
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output


def test_parquet_shards_of_a_bucket_name_its_urls(bucket: str, tmp_path: Path) -> None:
    """``--engine ray -o DIR/``: the decision shards name each file by its URL."""
    url = f"s3://{bucket}/c"
    result = CliRunner().invoke(
        main, ["scan", url, "-q", "-j", "2", "--no-cache", "--engine", "ray", "-o", f"{tmp_path / 'shards'}/"]
    )
    assert result.exit_code == 0, result.output
    shards = sorted((tmp_path / "shards").rglob("*.parquet"))
    assert shards and not any(b"dedup-inputs-" in p.read_bytes() for p in shards)
    rows = pq.read_table(tmp_path / "shards" / "decisions").to_pylist()
    assert len(rows) > 20 and all(r["root"] == url and r["absolute"] == f"{url}/{r['path']}" for r in rows)
