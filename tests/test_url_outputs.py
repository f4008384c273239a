"""Outputs of a scan of ``s3://`` inputs name the URLs, never the temporary folder the files
were copied to for the scan (gone when it ends): the report, the JSON, JSON Lines, CSV and
Parquet exports, the decision table, the keep and drop lists (``--absolute`` too) and the HTML
report. ``dedup apply`` on such an export refuses with one line: the files it names are in the
bucket, and the copies the scan read are gone. Against moto's S3 server on 127.0.0.1, with the
local engine (tests/test_ray_s3.py has the Ray engine). Needs the s3test extra (moto[server]);
skipped without it."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import s3_bucket

from dedup.cli import main
from dedup.corpus import generate

pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install 'dedup[parquet]')")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("moto.server", reason="moto is not installed (pip install 'dedup[s3test]')")
pytest.importorskip("boto3", reason="boto3 is not installed (pip install 'dedup[s3test]')")

BUCKET = "url-outputs"


@pytest.fixture(scope="module")
def bucket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An S3 endpoint on 127.0.0.1 holding the synthetic corpus under ``c/``."""
    base = tmp_path_factory.mktemp("urlsrc")
    generate(base / "c", seed=7)
    files = {p.relative_to(base).as_posix(): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}
    files["c/broken.jsonl.gz"] = b"not gzip at all\n"  # a skipped file
    with s3_bucket(BUCKET, files):
        yield BUCKET


def _scan(args: list[str]) -> str:
    """``dedup scan ARGS --no-cache``'s output, the run having succeeded."""
    result = CliRunner().invoke(main, ["scan", *args, "--no-cache"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _no_temp(text: str) -> None:
    assert "dedup-inputs-" not in text, text[:3000]


def test_every_output_of_a_bucket_folder_names_its_urls(bucket: str, tmp_path: Path) -> None:
    url = f"s3://{bucket}/c"
    out = tmp_path
    report = _scan([url, "-o", str(out / "r.json"), "--decisions", str(out / "d.csv"), "--keep-list",
                    str(out / "keep.txt"), "--drop-list", str(out / "drop.txt"), "--html", str(out / "r.html"), "-v"])  # fmt: skip
    _no_temp(report)
    assert url in report
    assert "Next:" in report and "dedup apply" not in report  # it would refuse (below)
    _scan([url, "-q", "-o", str(out / "r.jsonl"), "--decisions", str(out / "d.parquet"), "--absolute",
           "--keep-list", str(out / "keep-abs.txt"), "--drop-list", str(out / "drop-abs.txt")])  # fmt: skip
    _scan([url, "-q", "-o", str(out / "r.csv"), "--decisions", str(out / "d.jsonl")])
    _scan([url, "-q", "-o", str(out / "r.parquet")])
    for name in ("r.json", "d.csv", "keep.txt", "drop.txt", "r.html", "r.jsonl", "keep-abs.txt", "drop-abs.txt",
                 "r.csv", "d.jsonl"):  # fmt: skip
        _no_temp((out / name).read_text(encoding="utf-8", errors="replace"))
    for name in ("d.parquet", "r.parquet"):
        _no_temp(json.dumps(pq.read_table(out / name).to_pylist(), default=str))

    rows = json.loads((out / "r.json").read_text())["documents"]
    docs = [r for r in rows if r["decision"] != "skipped"]
    assert any(r["decision"] == "skipped" and r["path"] == "broken.jsonl.gz" for r in rows)
    assert len(docs) > 20 and any(r["decision"] == "dropped" for r in docs)
    for r in rows:  # root: the URL as given; absolute: the file's own URL in the bucket
        assert r["root"] == url
        assert r["absolute"] == f"{url}/{r['path']}", r
    with open(out / "d.csv", newline="", encoding="utf-8") as f:
        assert [(r["root"], r["absolute"]) for r in csv.DictReader(f)] == [(r["root"], r["absolute"]) for r in rows]
    dropped = (out / "drop-abs.txt").read_text().splitlines()
    assert dropped and all(line.startswith(f"{url}/") for line in dropped)
    kept = (out / "keep-abs.txt").read_text().splitlines()
    assert len(kept) + len(dropped) >= len(docs) - 5 and all(line.startswith(f"{url}/") for line in kept)
    # The relative lists hold ids, as for a local folder.
    assert not any(line.startswith(("s3:", "/")) for line in (out / "drop.txt").read_text().splitlines())


def test_one_file_and_a_pattern_name_each_file_by_its_url(bucket: str, tmp_path: Path) -> None:
    one = f"s3://{bucket}/c/records.jsonl"
    _scan([one, "-q", "-o", str(tmp_path / "one.json")])
    rows = json.loads((tmp_path / "one.json").read_text())["documents"]
    assert rows and {(r["root"], r["absolute"]) for r in rows} == {(one, one)}
    pattern = f"s3://{bucket}/c/*.jsonl"
    _scan([pattern, "-q", "-o", str(tmp_path / "many.json")])
    rows = json.loads((tmp_path / "many.json").read_text())["documents"]
    assert rows and all(r["root"] == pattern and r["absolute"] == f"s3://{bucket}/c/{r['path']}" for r in rows)


def test_apply_refuses_an_export_of_bucket_files(bucket: str, tmp_path: Path) -> None:
    export = tmp_path / "r.json"
    _scan([f"s3://{bucket}/c", "-q", "-o", str(export)])
    before = export.read_bytes()
    for action in ([], ["--quarantine", str(tmp_path / "q")], ["--delete", "--yes"]):
        result = CliRunner().invoke(main, ["apply", str(export), *action])
        assert result.exit_code == 2, result.output
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
        assert f"s3://{bucket}/c" in result.output and "bucket" in result.output
    assert export.read_bytes() == before and not (tmp_path / "q").exists()


def test_several_roots_name_their_files_by_url_in_ids_too(bucket: str, tmp_path: Path) -> None:
    """Several roots prefix their files' ids with the root: a URL's copy with its URL, so ids
    are the same from run to run and name no temporary folder."""
    roots = [f"s3://{bucket}/c/*.jsonl", f"s3://{bucket}/c/site1", f"s3://{bucket}/c/site2"]
    report = _scan([*roots, "-o", str(tmp_path / "a.json"), "--drop-list", str(tmp_path / "drop.txt")])
    _scan([*roots, "-q", "-o", str(tmp_path / "b.json")])
    _no_temp(report)
    first, second = (json.loads((tmp_path / n).read_text()) for n in ("a.json", "b.json"))
    assert first["clusters"] == second["clusters"] and first["documents"] == second["documents"]
    rows = first["documents"]
    assert any(r["decision"] == "skipped" for r in rows) and any(r["cluster"] for r in rows)
    for r in rows:  # the path (and so the id) is the file's own URL
        assert r["absolute"] == r["path"] and r["id"].startswith(r["path"]), r
        assert r["root"] in roots and r["path"].startswith(f"s3://{bucket}/c/"), r
        assert r["root"] == roots[0] if r["path"].count("/") == 4 else r["path"].startswith(f"{r['root']}/"), r
    dropped = (tmp_path / "drop.txt").read_text().splitlines()
    assert dropped and all(line.startswith(f"s3://{bucket}/c/") for line in dropped)
