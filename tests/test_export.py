"""Exports: exact JSON, round trips in every format, atomic writes, keep/drop lists."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup.errors import ConfigError, ExportError, InputError, SkipReason
from dedup.export import (
    CSV_COLUMNS,
    SCHEMA,
    SCHEMA_VERSION,
    escape_name,
    export_text,
    format_for,
    member_rows,
    read_export,
    to_dict,
    write_export,
    write_lists,
)
from dedup.records import Cluster, DocInfo, Locator, Member, ScanResult, Skipped, Summary

VERSION = "0.1.0"


def doc(index: int, doc_id: str, rel: str | None = None, record: int | None = None, size: int = 100) -> DocInfo:
    rel = doc_id if rel is None else rel
    return DocInfo(
        index=index,
        doc_id=doc_id,
        rel=rel,
        kind="jsonl" if record is not None else "html",
        encoding="utf-8",
        size=size,
        words=size // 10,
        shingles=size // 10,
        locator=Locator(f"/data/{rel}"),
        record=record,
    )


def small_result() -> ScanResult:
    """Two clusters (files, and JSON Lines records), one lone document, a skipped file."""
    c1 = Cluster(
        1,
        (
            Member("news/a.html", "news/a.html", 612, 6975, True, 1.0, 1.0, 0.12, ("least boilerplate",)),
            Member(
                "mirror/[b]a[/b].html",
                "mirror/[b]a[/b].html",
                1204,
                14230,
                False,
                0.53125,
                0.998049,
                0.4712345,
                ("wrapped in page chrome", 'quotes "x"'),
            ),
        ),
    )
    c2 = Cluster(
        2,
        (
            Member("rec-17", "dump/feed.jsonl", 120, 800, True, 1.0, 1.0, 0.0, (), record=3, record_id="r17"),
            Member("dump/feed.jsonl:9", "dump/feed.jsonl", 118, 790, False, 0.9, 0.95, 0.1, ("truncated",), record=9),
        ),
    )
    docs = (
        doc(0, "dump/feed.jsonl:9", "dump/feed.jsonl", 9, 790),
        doc(1, "rec-17", "dump/feed.jsonl", 3, 800),
        doc(2, "lone.txt"),
        doc(3, "mirror/[b]a[/b].html", size=14230),
        doc(4, "news/a.html", size=6975),
    )
    return ScanResult(
        roots=("scraped",),
        params={"shingle_size": 5, "jaccard_threshold": 0.7, "include": ["*.html"], "cluster_mode": "star"},
        summary=Summary(
            files=4, documents=5, skipped=1, clusters=2, duplicates=2, bytes_saved=15020, candidates=6, matches=2
        ),
        clusters=(c1, c2),
        skipped=(Skipped("img/logo.png", SkipReason.BINARY, "NUL byte at offset 12"),),
        docs=docs,
    )


EXPECTED_JSON = r"""{
  "schema": "dedup.scan/1",
  "version": "0.1.0",
  "roots": [
    "scraped"
  ],
  "params": {
    "shingle_size": 5,
    "jaccard_threshold": 0.7,
    "include": [
      "*.html"
    ],
    "cluster_mode": "star"
  },
  "summary": {
    "files": 4,
    "documents": 5,
    "skipped": 1,
    "clusters": 2,
    "duplicates": 2,
    "bytes_saved": 15020,
    "candidates": 6,
    "matches": 2
  },
  "clusters": [
    {"cluster": 1, "size": 2, "cleanest": "news/a.html", "members": [{"id": "news/a.html", "path": "news/a.html", "record": null, "record_id": null, "cleanest": true, "jaccard": 1.0, "containment": 1.0, "words": 612, "bytes": 6975, "penalty": 0.12, "reasons": ["least boilerplate"], "in_cleanest": 1.0, "rule": "", "own_words": 0, "boilerplate_words": 0, "decision": "drop"}, {"id": "mirror/[b]a[/b].html", "path": "mirror/[b]a[/b].html", "record": null, "record_id": null, "cleanest": false, "jaccard": 0.5312, "containment": 0.998, "words": 1204, "bytes": 14230, "penalty": 0.4712, "reasons": ["wrapped in page chrome", "quotes \"x\""], "in_cleanest": 1.0, "rule": "", "own_words": 0, "boilerplate_words": 0, "decision": "drop"}]},
    {"cluster": 2, "size": 2, "cleanest": "rec-17", "members": [{"id": "rec-17", "path": "dump/feed.jsonl", "record": 3, "record_id": "r17", "cleanest": true, "jaccard": 1.0, "containment": 1.0, "words": 120, "bytes": 800, "penalty": 0.0, "reasons": [], "in_cleanest": 1.0, "rule": "", "own_words": 0, "boilerplate_words": 0, "decision": "drop"}, {"id": "dump/feed.jsonl:9", "path": "dump/feed.jsonl", "record": 9, "record_id": null, "cleanest": false, "jaccard": 0.9, "containment": 0.95, "words": 118, "bytes": 790, "penalty": 0.1, "reasons": ["truncated"], "in_cleanest": 1.0, "rule": "", "own_words": 0, "boilerplate_words": 0, "decision": "drop"}]}
  ],
  "skipped": [
    {"path": "img/logo.png", "reason": "binary", "detail": "NUL byte at offset 12"}
  ],
  "documents": [
    {"id": "dump/feed.jsonl:9", "path": "dump/feed.jsonl", "record": 9, "record_id": null, "kind": "jsonl", "cluster": 2, "decision": "dropped", "rule": "", "kept": "rec-17", "digest": "0000000000000000", "bytes": 790, "root": "/scraped", "absolute": "/data/dump/feed.jsonl", "absolute_escaped": null, "detail": ""},
    {"id": "rec-17", "path": "dump/feed.jsonl", "record": 3, "record_id": null, "kind": "jsonl", "cluster": 2, "decision": "kept", "rule": "ranking", "kept": "rec-17", "digest": "0000000000000000", "bytes": 800, "root": "/scraped", "absolute": "/data/dump/feed.jsonl", "absolute_escaped": null, "detail": ""},
    {"id": "lone.txt", "path": "lone.txt", "record": null, "record_id": null, "kind": "html", "cluster": null, "decision": "unique", "rule": "", "kept": null, "digest": "0000000000000000", "bytes": 100, "root": "/scraped", "absolute": "/data/lone.txt", "absolute_escaped": null, "detail": ""},
    {"id": "mirror/[b]a[/b].html", "path": "mirror/[b]a[/b].html", "record": null, "record_id": null, "kind": "html", "cluster": 1, "decision": "dropped", "rule": "", "kept": "news/a.html", "digest": "0000000000000000", "bytes": 14230, "root": "/scraped", "absolute": "/data/mirror/[b]a[/b].html", "absolute_escaped": null, "detail": ""},
    {"id": "news/a.html", "path": "news/a.html", "record": null, "record_id": null, "kind": "html", "cluster": 1, "decision": "kept", "rule": "ranking", "kept": "news/a.html", "digest": "0000000000000000", "bytes": 6975, "root": "/scraped", "absolute": "/data/news/a.html", "absolute_escaped": null, "detail": ""},
    {"id": "img/logo.png", "path": "img/logo.png", "record": null, "record_id": null, "kind": null, "cluster": null, "decision": "skipped", "rule": "binary", "kept": null, "digest": null, "bytes": 0, "root": "/scraped", "absolute": "/scraped/img/logo.png", "absolute_escaped": null, "detail": "NUL byte at offset 12"}
  ]
}
"""


def test_exact_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/")  # a skipped entry's absolute path is below the working directory here
    out = tmp_path / "scan.json"
    write_export(small_result(), out, version=VERSION)
    assert out.read_text(encoding="utf-8") == EXPECTED_JSON


def test_schema_constants() -> None:
    assert SCHEMA_VERSION == 1
    assert SCHEMA == "dedup.scan/1"
    assert ",".join(CSV_COLUMNS) == (
        "cluster,id,path,record,cleanest,jaccard,containment,words,bytes,penalty,reasons,record_id,in_cleanest,rule,own_words,boilerplate_words,decision"
    )


def test_exact_jsonl_and_csv(tmp_path: Path) -> None:
    write_export(small_result(), tmp_path / "scan.jsonl", version=VERSION)
    lines = (tmp_path / "scan.jsonl").read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""  # every line ends with a newline
    assert lines[1] == (
        '{"cluster": 1, "id": "mirror/[b]a[/b].html", "path": "mirror/[b]a[/b].html", "record": null, '
        '"record_id": null, "cleanest": false, "jaccard": 0.5312, "containment": 0.998, "words": 1204, "bytes": 14230, '
        '"penalty": 0.4712, "reasons": ["wrapped in page chrome", "quotes \\"x\\""], '
        '"in_cleanest": 1.0, "rule": "", "own_words": 0, "boilerplate_words": 0, "decision": "drop"}'
    )
    assert [json.loads(line)["id"] for line in lines[:-1]] == [
        "news/a.html",
        "mirror/[b]a[/b].html",
        "rec-17",
        "dump/feed.jsonl:9",
    ]

    write_export(small_result(), tmp_path / "scan.csv", version=VERSION)
    assert (tmp_path / "scan.csv").read_bytes().decode("utf-8") == (
        "cluster,id,path,record,cleanest,jaccard,containment,words,bytes,penalty,reasons,record_id,in_cleanest,rule,own_words,boilerplate_words,decision\r\n"
        "1,news/a.html,news/a.html,,true,1.0,1.0,612,6975,0.12,least boilerplate,,1.0,,0,0,drop\r\n"
        "1,mirror/[b]a[/b].html,mirror/[b]a[/b].html,,false,0.5312,0.998,1204,14230,0.4712,"
        '"wrapped in page chrome; quotes ""x""",,1.0,,0,0,drop\r\n'
        "2,rec-17,dump/feed.jsonl,3,true,1.0,1.0,120,800,0.0,,r17,1.0,,0,0,drop\r\n"
        "2,dump/feed.jsonl:9,dump/feed.jsonl,9,false,0.9,0.95,118,790,0.1,truncated,,1.0,,0,0,drop\r\n"
    )


def test_read_export_returns_the_document(tmp_path: Path) -> None:
    out = tmp_path / "scan.json"
    write_export(small_result(), out, version=VERSION)
    assert read_export(out) == to_dict(small_result(), VERSION)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read"),
        ('{"clusters": []}', "is not a dedup scan export"),
        ('{"schema": "dedup.scan/2"}', "uses schema dedup.scan/2; this dedup reads dedup.scan/1"),
    ],
)
def test_read_export_rejects_other_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "other.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_export(path)
    with pytest.raises(InputError, match="cannot read"):
        read_export(tmp_path / "missing.json")


# --- formats ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.json", "json"), ("a.JSON", "json"), ("a.jsonl", "jsonl"), ("a.ndjson", "jsonl"), ("dir/a.csv", "csv")],
)
def test_format_from_suffix(name: str, fmt: str) -> None:
    assert format_for(name) == fmt
    assert format_for(name, "csv") == "csv"  # an explicit format wins


def test_unknown_suffix_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        write_export(small_result(), "x.txt", version=VERSION)
    assert str(info.value) == "cannot tell the export format from 'x.txt': use --format json|jsonl|csv|parquet"
    with pytest.raises(ConfigError, match="cannot tell the export format from '-'"):
        write_export(small_result(), "-", version=VERSION)
    with pytest.raises(ConfigError, match="unknown export format 'xml'"):
        write_export(small_result(), tmp_path / "a.json", "xml", version=VERSION)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_dash_writes_to_stdout(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write_export(small_result(), "-", fmt, version=VERSION)
    out = capsys.readouterr().out
    write_export(small_result(), tmp_path / "file", fmt, version=VERSION)
    assert out == (tmp_path / "file").read_bytes().decode("utf-8")
    assert not (tmp_path / "-").exists()


# --- atomic writes ---------------------------------------------------------------------


def test_failed_serialisation_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "scan.json"
    target.write_text("old content\n", encoding="utf-8")
    result = small_result()
    broken = ScanResult(result.roots, {"when": object()}, result.summary, result.clusters, result.skipped)
    with pytest.raises(ExportError) as info:
        write_export(broken, target, version=VERSION)
    assert str(info.value) == f"cannot write {target}: a params value of type object cannot be written as JSON"
    assert target.read_text(encoding="utf-8") == "old content\n"
    assert os.listdir(tmp_path) == ["scan.json"]


def test_failure_midway_through_the_rows_keeps_the_old_file(tmp_path: Path) -> None:
    result = small_result()
    bad = Member("z", "z", 1, 1, False, 0.5, 0.5, 0.5, (None,))  # type: ignore[arg-type]  # a bad value on purpose: its row fails the write
    clusters = (*result.clusters, Cluster(3, (result.clusters[0].members[0], bad)))
    broken = ScanResult(result.roots, result.params, result.summary, clusters, result.skipped)
    for name in ("scan.jsonl", "scan.csv"):
        target = tmp_path / name
        target.write_text("old content\n", encoding="utf-8")
        with pytest.raises(ExportError, match=f"^cannot write {target}: "):
            write_export(broken, target, version=VERSION)
        assert target.read_text(encoding="utf-8") == "old content\n"
    assert sorted(os.listdir(tmp_path)) == ["scan.csv", "scan.jsonl"]


def test_failed_fsync_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "scan.csv"
    target.write_text("old content\n", encoding="utf-8")

    def no_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", no_fsync)
    with pytest.raises(ExportError) as info:
        write_export(small_result(), target, version=VERSION)
    assert str(info.value) == f"cannot write {target}: Input/output error"
    assert target.read_text(encoding="utf-8") == "old content\n"
    assert os.listdir(tmp_path) == ["scan.csv"]


def test_failed_replace_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "scan.json"  # a folder: the temp file is written, os.replace fails
    target.mkdir()
    (target / "inside.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(ExportError) as info:
        write_export(small_result(), target, version=VERSION)
    message = str(info.value)
    assert message.startswith(f"cannot write {target}: ")
    assert "\n" not in message
    assert (target / "inside.txt").read_text(encoding="utf-8") == "keep me"
    assert os.listdir(tmp_path) == ["scan.json"]


@pytest.mark.parametrize(
    ("parent", "reason"), [("missing", "No such file or directory"), ("a-file", "Not a directory")]
)
def test_unwritable_folder_is_an_export_error(tmp_path: Path, parent: str, reason: str) -> None:
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    target = tmp_path / parent / "scan.json"
    with pytest.raises(ExportError) as info:
        write_export(small_result(), target, version=VERSION)
    assert str(info.value) == f"cannot write {target}: {reason}"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_folder_is_an_export_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ExportError, match=r"Permission denied$"):
            write_export(small_result(), folder / "scan.json", version=VERSION)
    finally:
        folder.chmod(0o700)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_file_modes(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        write_export(small_result(), tmp_path / "new.json", version=VERSION)
        assert (tmp_path / "new.json").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
        old = tmp_path / "old.json"
        old.write_text("old", encoding="utf-8")
        old.chmod(0o640)
        write_export(small_result(), old, version=VERSION)
        assert old.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(umask)


def test_nan_is_refused_rather_than_written_as_invalid_json(tmp_path: Path) -> None:
    result = small_result()
    m = result.clusters[0].members[1]
    nan = Member(m.doc_id, m.rel, m.words, m.size, False, m.jaccard, m.containment, float("nan"), m.reasons)
    broken = ScanResult(
        result.roots, result.params, result.summary, (Cluster(1, (result.clusters[0].members[0], nan)),), ()
    )
    with pytest.raises(ExportError, match="not JSON compliant"):
        write_export(broken, tmp_path / "scan.json", version=VERSION)
    assert list(tmp_path.iterdir()) == []


# --- keep / drop lists -----------------------------------------------------------------


def test_keep_and_drop_lists(tmp_path: Path) -> None:
    keep, drop = tmp_path / "keep.txt", tmp_path / "drop.txt"
    keep.write_text("stale\n", encoding="utf-8")
    write_lists(small_result(), keep, drop)
    assert keep.read_text(encoding="utf-8") == "rec-17\nlone.txt\nnews/a.html\n"
    assert drop.read_text(encoding="utf-8") == "mirror/[b]a[/b].html\ndump/feed.jsonl:9\n"


def test_one_list_only(tmp_path: Path) -> None:
    write_lists(small_result(), None, tmp_path / "drop.txt")
    assert os.listdir(tmp_path) == ["drop.txt"]
    write_lists(small_result(), tmp_path / "keep.txt", None)
    assert sorted(os.listdir(tmp_path)) == ["drop.txt", "keep.txt"]


def test_lists_with_no_clusters(tmp_path: Path) -> None:
    result = small_result()
    alone = ScanResult(result.roots, result.params, result.summary, (), (), docs=result.docs)
    write_lists(alone, tmp_path / "keep.txt", tmp_path / "drop.txt")
    assert (tmp_path / "keep.txt").read_text(encoding="utf-8").splitlines() == [d.doc_id for d in result.docs]
    assert (tmp_path / "drop.txt").read_text(encoding="utf-8") == ""


def test_list_lines_are_never_two_ids(tmp_path: Path) -> None:
    ids = ["evil\nimportant.txt", "cr\rname", "sep\u2028x", "bad\udcff.txt"]
    members = tuple(Member(i, i, 5, 5, n == 0, 1.0, 1.0, 0.0, ()) for n, i in enumerate(["ok.txt", *ids]))
    result = ScanResult(("r",), {}, small_result().summary, (Cluster(1, members),), ())
    write_lists(result, None, tmp_path / "drop.txt")
    text = (tmp_path / "drop.txt").read_text(encoding="utf-8")
    assert text.splitlines() == ["evil\\nimportant.txt", "cr\\rname", "sep\\u2028x", "bad\\xff.txt"]


def test_keep_list_needs_the_document_list(tmp_path: Path) -> None:
    result = small_result()
    thin = ScanResult(result.roots, result.params, result.summary, result.clusters, result.skipped)
    with pytest.raises(ExportError, match="holds no document list"):
        write_lists(thin, tmp_path / "keep.txt", None)
    assert list(tmp_path.iterdir()) == []


def test_failed_list_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "drop.txt"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(ExportError, match=r"^cannot write .*: No such file or directory$"):
        write_lists(small_result(), None, tmp_path / "missing" / "drop.txt")
    assert target.read_text(encoding="utf-8") == "old\n"


# --- names that are not valid UTF-8 ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "exported"),
    [
        ("plain.txt", "plain.txt"),
        ("caf\udce9.txt", "caf\\xe9.txt"),
        ("\udcff\udcfe", "\\xff\\xfe"),
        ("lone\ud800high", "lone\\ud800high"),
        ("中文 é", "中文 é"),
    ],
)
def test_export_text(name: str, exported: str) -> None:
    assert export_text(name) == exported
    exported.encode("utf-8")


def test_surrogate_names_in_every_format(tmp_path: Path) -> None:
    name = "bad\udcff\udcfe.html"
    members = (
        Member(name, name, 5, 50, True, 1.0, 1.0, 0.0, ("x\udc80",)),
        Member("b.html", "b.html", 5, 50, False, 0.9, 0.9, 0.1, ()),
    )
    result = ScanResult(
        (name,),
        {"root": name},
        small_result().summary,
        (Cluster(1, members),),
        (Skipped(name, SkipReason.EMPTY, name),),
    )
    for fmt in ("json", "jsonl", "csv"):
        write_export(result, tmp_path / f"out.{fmt}", version=VERSION)
        text = (tmp_path / f"out.{fmt}").read_text(encoding="utf-8")
        assert "bad\\xff\\xfe.html" in text.replace("\\\\", "\\")
        assert "\udcff" not in text
    data = read_export(tmp_path / "out.json")
    assert data["roots"] == ["bad\\xff\\xfe.html"]
    assert data["clusters"][0]["members"][0]["reasons"] == ["x\\x80"]
    assert data["skipped"][0] == {"path": "bad\\xff\\xfe.html", "reason": "empty", "detail": "bad\\xff\\xfe.html"}


def test_jsonl_lines_survive_splitlines(tmp_path: Path) -> None:
    odd = "a\u2028b\u2029c\x85d"
    members = (
        Member(odd, odd, 5, 50, True, 1.0, 1.0, 0.0, (odd,)),
        Member("b", "b", 5, 50, False, 0.9, 0.9, 0.1, ()),
    )
    result = ScanResult(("r",), {}, small_result().summary, (Cluster(1, members),), ())
    write_export(result, tmp_path / "out.jsonl", version=VERSION)
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["id"] == odd


# --- round trip ------------------------------------------------------------------------

names = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
shares = st.floats(min_value=0.0, max_value=1.0)


@st.composite
def scan_results(draw: st.DrawFn) -> ScanResult:
    clusters = []
    for number in range(1, draw(st.integers(0, 3)) + 1):
        members = []
        for position in range(draw(st.integers(2, 4))):
            members.append(
                Member(
                    doc_id=draw(names),
                    rel=draw(names),
                    words=draw(st.integers(0, 10**6)),
                    size=draw(st.integers(0, 10**9)),
                    cleanest=position == 0,
                    jaccard=1.0 if position == 0 else draw(shares),
                    containment=1.0 if position == 0 else draw(shares),
                    penalty=draw(st.floats(min_value=-1e6, max_value=1e6)),
                    reasons=tuple(draw(st.lists(names, max_size=3))),
                    record=draw(st.none() | st.integers(1, 10**6)),
                    record_id=draw(st.none() | names),
                )
            )
        clusters.append(Cluster(number, tuple(members)))
    skipped = draw(st.lists(st.builds(Skipped, names, st.sampled_from(SkipReason), names), max_size=3))
    summary = Summary(*draw(st.lists(st.integers(0, 10**9), min_size=8, max_size=8)))
    roots = tuple(draw(st.lists(names, min_size=1, max_size=2)))
    return ScanResult(roots, {"seed": draw(st.integers(0, 2**32 - 1))}, summary, tuple(clusters), tuple(skipped))


def flat(result: ScanResult) -> list[tuple[object, ...]]:
    """What every format must carry for each member, as exported."""
    return [
        (
            c.cluster_id,
            export_text(m.doc_id),
            export_text(m.rel),
            m.record,
            m.cleanest,
            round(m.jaccard, 4),
            round(m.containment, 4),
            m.words,
            m.size,
            round(m.penalty, 4),
            [export_text(r) for r in m.reasons],
            None if m.record_id is None else export_text(m.record_id),
            round(m.in_cleanest, 4),
            m.rule,
            m.own_words,
            m.boilerplate_words,
            m.decision,
        )
        for c in result.clusters
        for m in c.members
    ]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(result=scan_results())
def test_round_trip_in_every_format(tmp_path: Path, result: ScanResult) -> None:
    expected = flat(result)

    write_export(result, tmp_path / "out.json", version=VERSION)
    data = read_export(tmp_path / "out.json")
    assert data["summary"]["documents"] == result.summary.documents
    assert data["roots"] == [export_text(r) for r in result.roots]
    assert [(s["path"], s["reason"], s["detail"]) for s in data["skipped"]] == [
        (export_text(s.rel), s.reason.value, export_text(s.detail)) for s in result.skipped
    ]
    from_json = [(c["cluster"], *(m[k] for k in CSV_COLUMNS[1:])) for c in data["clusters"] for m in c["members"]]
    assert from_json == expected
    assert [c["cleanest"] for c in data["clusters"]] == [export_text(c.members[0].doc_id) for c in result.clusters]

    write_export(result, tmp_path / "out.jsonl", version=VERSION)
    with open(tmp_path / "out.jsonl", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    assert [tuple(row[k] for k in CSV_COLUMNS) for row in rows] == [tuple(e) for e in expected]
    assert len((tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()) == len(expected)

    write_export(result, tmp_path / "out.csv", version=VERSION)
    with open(tmp_path / "out.csv", encoding="utf-8", newline="") as f:
        table = list(csv.reader(f))
    assert tuple(table[0]) == CSV_COLUMNS
    members = [m for c in result.clusters for m in c.members]  # CSV escapes names as the lists do
    assert table[1:] == [
        [
            str(e[0]),
            escape_name(m.doc_id),
            escape_name(m.rel),
            "" if e[3] is None else str(e[3]),
            "true" if e[4] else "false",
            *(str(x) for x in e[5:10]),
            "; ".join(escape_name(r) for r in m.reasons),
            "" if m.record_id is None else escape_name(m.record_id),
            *(str(x) for x in e[-5:]),
        ]
        for e, m in zip(expected, members, strict=True)
    ]
    assert sorted(os.listdir(tmp_path)) == ["out.csv", "out.json", "out.jsonl"]


_texts = st.text(
    st.characters() | st.sampled_from(["\u2028", "\u0085", '"', "\\", "\n", "\udce9", "\ud800", "é", "跳"])
)
_members = st.builds(
    Member,
    doc_id=_texts,
    rel=_texts,
    words=st.integers(0, 10**12),
    size=st.integers(0, 10**15),
    cleanest=st.booleans(),
    jaccard=st.floats(allow_nan=False, allow_infinity=False),
    containment=st.floats(-1e300, 1e300),
    penalty=st.floats(0, 10) | st.sampled_from([0.0, -0.0, 1e-5, 0.00005, 123456.78915]),
    reasons=st.lists(_texts, max_size=3).map(tuple),
    record=st.none() | st.integers(1, 10**9),
)


def _one_line(text: str) -> str:
    """JSON text with the line breaks json leaves raw escaped, as the export documents."""
    return text.replace("\u0085", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


@given(cid=st.integers(1, 10**6), members=st.lists(_members, min_size=1, max_size=3))  # a cluster has members
def test_clusters_and_members_are_written_as_the_json_encoder_writes_their_dicts(
    cid: int, members: list[Member]
) -> None:
    # The export writes cluster and member lines directly (fast); they must be the exact
    # bytes json's encoder makes of the documented dicts (to_dict, member_rows), for any
    # names and numbers.
    cluster = Cluster(cid, tuple(members))
    result = dataclasses.replace(small_result(), clusters=(cluster,))
    with tempfile.TemporaryDirectory() as tmp:
        write_export(result, Path(tmp) / "x.json", version="t")
        write_export(result, Path(tmp) / "x.jsonl", version="t")
        lines = (Path(tmp) / "x.json").read_bytes().decode("utf-8").split("\n")
        jsonl = (Path(tmp) / "x.jsonl").read_bytes().decode("utf-8")
    clusters = to_dict(result, "t")["clusters"]
    assert isinstance(clusters, list)
    assert lines[lines.index('  "clusters": [') + 1] == "    " + _one_line(_ENCODE(clusters[0]))
    assert jsonl == "".join(_one_line(_ENCODE(row)) + "\n" for row in member_rows(result))


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_a_float_json_cannot_hold_is_refused_as_the_encoder_refuses_it(tmp_path: Path, fmt: str, bad: float) -> None:
    m = Member("a", "a", 1, 1, True, 1.0, bad, 0.0, ())
    result = dataclasses.replace(small_result(), clusters=(Cluster(1, (m,)),))
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        _ENCODE(next(member_rows(result)))
    target = tmp_path / f"x.{fmt}"
    with pytest.raises(ExportError, match="Out of range float values are not JSON compliant"):
        write_export(result, target, version="t")
    assert not target.exists() and os.listdir(tmp_path) == []
