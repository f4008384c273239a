"""Formats of the field (issue 16): Parquet, gzip- and zstd-compressed files, standard input
and dotted fields. Each form gives the same clusters as its plain JSON Lines twin; damaged
or oversized compressed files are one-line skips; re-reading a member for ranking is
exact in any order and notices a file that changed."""

from __future__ import annotations

import gzip
import importlib
import io
import json
import random
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from saboteur import Saboteur

from dedup import ScanConfig, scan
from dedup.cli import main
from dedup.errors import SkipReason
from dedup.extract import extract, load_text
from dedup.formats import compression, inner_suffix, read_by_record
from dedup.records import Document, Skipped, SourceFile
from dedup.stdinput import stdin_path

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
RANKING = "ranking copies"  # the stage whose start the saboteur waits for


def _zstandard() -> Any:
    return pytest.importorskip("zstandard", reason="zstd inputs need zstandard: pip install 'dedup[zstd]'")


def _parquet() -> tuple[Any, Any]:
    pa = pytest.importorskip("pyarrow", reason="Parquet inputs need pyarrow: pip install 'dedup[parquet]'")
    return pa, importlib.import_module("pyarrow.parquet")


def records() -> list[dict[str, Any]]:
    """Three copies of each sample (plain, wrapped in chrome, cut short), and a few loners:
    clusters, a cleanest pick and the containment rule all have work to do."""
    out: list[dict[str, Any]] = []
    rng = random.Random(7)
    for i, path in enumerate(sorted(SAMPLES.glob("*.txt"))):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        copies = [
            text,
            "Home | News | Contact\n" + text + "\nShare this\nSubscribe",
            "\n".join(lines[: len(lines) * 4 // 5]),
        ]
        for j, copy in enumerate(copies):
            out.append({"id": f"s{i}-{j}", "text": copy, "meta": {"url": f"https://example.org/{i}/{j}", "body": copy}})
    for k in range(4):
        text = " ".join(f"w{rng.randrange(50_000)}" for _ in range(200))
        out.append({"id": f"lone{k}", "text": text, "meta": {"url": f"https://example.org/lone/{k}", "body": text}})
    rng.shuffle(out)
    return out


def jsonl_bytes(recs: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs).encode("utf-8")


def write_twins(folder: Path) -> dict[str, Path]:
    """The same records as .jsonl, .jsonl.gz, .jsonl.zst and .parquet (as many as installed)."""
    folder.mkdir(parents=True, exist_ok=True)
    recs = records()
    data = jsonl_bytes(recs)
    twins = {"jsonl": folder / "d.jsonl", "gz": folder / "d.jsonl.gz"}
    twins["jsonl"].write_bytes(data)
    twins["gz"].write_bytes(gzip.compress(data))
    try:
        import zstandard

        twins["zst"] = folder / "d.jsonl.zst"
        twins["zst"].write_bytes(zstandard.ZstdCompressor().compress(data))
    except ImportError:
        pass
    try:
        pa = importlib.import_module("pyarrow")
        pq = importlib.import_module("pyarrow.parquet")
        twins["parquet"] = folder / "d.parquet"
        pq.write_table(pa.Table.from_pylist(recs), twins["parquet"], row_group_size=7)  # several row groups
    except ImportError:
        pass
    return twins


def export(path: str, tmp_path: Path, *args: str, stdin: bytes | None = None) -> dict[str, Any]:
    out = tmp_path / f"out-{len(list(tmp_path.glob('out-*')))}.json"
    result = CliRunner().invoke(
        main, ["scan", path, "-q", "--no-cache", "--output", str(out), *args], input=stdin, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return dict(json.loads(out.read_text(encoding="utf-8")))


def clusters(exported: dict[str, Any]) -> list[list[tuple[Any, ...]]]:
    """The clusters, ids aside (each twin names its file), with everything the pick decided."""
    return [
        [
            (m["record_id"], m["cleanest"], m["jaccard"], m["containment"], m["words"], m["penalty"], m["reasons"])
            for m in c["members"]
        ]
        for c in exported["clusters"]
    ]


def test_suffixes() -> None:
    assert (inner_suffix("a/b.JSONL.gz"), compression("a/b.JSONL.gz")) == (".jsonl", "gzip")
    assert (inner_suffix("b.txt.zst"), compression("b.txt.zst")) == (".txt", "zstd")
    assert (inner_suffix("b.gz"), inner_suffix("b.parquet"), compression("b.parquet")) == ("", ".parquet", None)
    assert read_by_record("x.ndjson.zst") and read_by_record("x.parquet") and not read_by_record("x.txt.gz")


@pytest.mark.parametrize("twin", ["gz", "zst", "parquet"])
def test_twins_give_the_same_clusters_as_json_lines(tmp_path: Path, twin: str) -> None:
    if twin == "zst":
        _zstandard()
    if twin == "parquet":
        _parquet()
    twins = write_twins(tmp_path / "in")
    plain = export(str(twins["jsonl"]), tmp_path)
    # Five samples, three copies each; samples 000 and 001 are one article (001 wraps 000).
    assert len(plain["clusters"]) == 4 and plain["skipped"] == []
    other = export(str(twins[twin]), tmp_path)
    assert clusters(other) == clusters(plain)
    assert other["skipped"] == []
    name = twins[twin].name
    assert [m["id"] for c in other["clusters"] for m in c["members"]] == [
        m["id"].replace("d.jsonl:", f"{name}:") for c in plain["clusters"] for m in c["members"]
    ]
    # Ranked in worker processes too (each builds its own spool): the same.
    assert clusters(export(str(twins[twin]), tmp_path, "-j", "2")) == clusters(plain)


def test_standard_input_gives_the_same_clusters_with_dash_ids(tmp_path: Path) -> None:
    twins = write_twins(tmp_path / "in")
    plain = export(str(twins["jsonl"]), tmp_path)
    piped = export("-", tmp_path, stdin=twins["jsonl"].read_bytes())
    assert clusters(piped) == clusters(plain)
    assert piped["roots"] == ["-"]
    ids = [m["id"] for c in piped["clusters"] for m in c["members"]]
    assert ids == [m["id"].replace(f"{twins['jsonl']}:", "-:") for c in plain["clusters"] for m in c["members"]]
    assert all(i.startswith("-:s") for i in ids)


def test_standard_input_as_text_is_one_document_named_dash(tmp_path: Path) -> None:
    text = (SAMPLES / "000_8bcd120cc8060ff3.txt").read_bytes()
    out = tmp_path / "o.json"
    run = CliRunner().invoke(
        main, ["scan", "-", str(SAMPLES), "-q", "--no-cache", "--output", str(out)], input=text, catch_exceptions=False
    )
    assert run.exit_code == 0, run.output
    exported = json.loads(out.read_text(encoding="utf-8"))
    (cluster,) = exported["clusters"]
    ids = sorted(m["id"] for m in cluster["members"])
    assert ids == ["-", str(SAMPLES / "000_8bcd120cc8060ff3.txt"), str(SAMPLES / "001_288da1160778f453.txt")]


def test_stdin_is_copied_once_per_stream(tmp_path: Path) -> None:
    stream = io.BytesIO(b'  {"id": 1, "text": "a b c"}\n')
    first = stdin_path(stream)
    assert first.endswith("stdin.jsonl") and stdin_path(stream) == first
    assert Path(first).read_bytes() == b'  {"id": 1, "text": "a b c"}\n'
    assert stdin_path(io.BytesIO(b"[{}]")).endswith("stdin.json")
    assert stdin_path(io.BytesIO(b"plain words")).endswith("stdin.txt")


def test_dotted_fields_reach_into_nested_records(tmp_path: Path) -> None:
    twins = write_twins(tmp_path / "in")
    plain = export(str(twins["jsonl"]), tmp_path)
    forms = ["jsonl", "gz"] + (["parquet"] if "parquet" in twins else [])
    for form in forms:
        nested = export(str(twins[form]), tmp_path, "--text-field", "meta.body", "--id-field", "meta.url")
        assert [[m[1:] for m in c] for c in clusters(nested)] == [[m[1:] for m in c] for c in clusters(plain)]
        ids = [m["record_id"] for c in nested["clusters"] for m in c["members"]]
        assert all(i.startswith("https://example.org/") for i in ids)
        first = nested["clusters"][0]["members"][0]
        assert first["id"] == f"{twins[form]}:{first['record_id']}"


def test_a_dotted_field_that_is_missing_names_the_fields_there(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"meta": {"url": "u", "lang": "en"}, "text": "x"}\n{"meta": "flat"}\n', encoding="utf-8")
    items = list(extract(SourceFile(str(path), "d.jsonl", 1), ScanConfig(text_field="meta.body")))
    assert items == [
        Skipped("d.jsonl:1", SkipReason.BAD_RECORD, "line 1: no 'meta.body' field ('meta' has fields: url, lang)"),
        Skipped("d.jsonl:2", SkipReason.BAD_RECORD, "line 2: no 'meta.body' field ('meta' is a string)"),
    ]
    # A key that holds a dot is still read as itself.
    path.write_text('{"meta.body": "dotted key"}\n', encoding="utf-8")
    (doc,) = extract(SourceFile(str(path), "d.jsonl", 1), ScanConfig(text_field="meta.body"))
    assert isinstance(doc, Document) and doc.text == "dotted key"


def test_parquet_without_the_column_names_the_columns(tmp_path: Path) -> None:
    pa, pq = _parquet()
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"id": [1, 2], "body": ["a b", "c d"]}), path)
    items = list(extract(SourceFile(str(path), "d.parquet", 1), ScanConfig()))
    assert items == [Skipped("d.parquet", SkipReason.BAD_RECORD, "no 'text' column (columns: id, body)")]
    docs = list(extract(SourceFile(str(path), "d.parquet", 1), ScanConfig(text_field="body")))
    assert [(d.doc_id, d.text) for d in docs if isinstance(d, Document)] == [
        ("d.parquet:1", "a b"),
        ("d.parquet:2", "c d"),
    ]


def test_parquet_without_pyarrow_is_a_skip_naming_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1 whatever PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # what a machine without pyarrow gives: ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    (item,) = extract(SourceFile(str(path), "d.parquet", 1), ScanConfig())
    assert isinstance(item, Skipped) and item.reason == SkipReason.EXTRACT_FAILED
    assert item.detail == "reading Parquet needs pyarrow: pip install 'dedup[parquet]'"


def test_a_file_that_is_not_parquet_is_one_skip(tmp_path: Path) -> None:
    _parquet()
    path = tmp_path / "d.parquet"
    path.write_bytes(b"not parquet at all")
    (item,) = extract(SourceFile(str(path), "d.parquet", 1), ScanConfig())
    assert isinstance(item, Skipped) and item.reason == SkipReason.UNREADABLE
    assert item.detail.startswith("not a valid Parquet file (") and "\n" not in item.detail


def damaged(tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    """Damaged compressed files -> (bytes, the skip's detail)."""
    data = jsonl_bytes(records())
    gz = gzip.compress(data)
    flipped = bytearray(gz)
    flipped[len(gz) // 2] ^= 0x55
    out = {
        "cut.jsonl.gz": (gz[: len(gz) // 2], "gzip data cut short (the file is truncated)"),
        "flip.jsonl.gz": (bytes(flipped), "not valid gzip data (Error -3 while decompressing data: "),
        "plain.txt.gz": (
            b"not gzip at all\n",
            "not valid gzip data (Error -3 while decompressing data: incorrect header check)",
        ),
    }
    try:
        import zstandard

        zst = zstandard.ZstdCompressor().compress(data)
        out["cut.jsonl.zst"] = (zst[: len(zst) // 2], "zstd data cut short (the file is truncated)")
        out["junk.txt.zst"] = (b"\x28\xb5\x2f\xfd junk junk junk", "not valid zstd data (")
    except ImportError:
        pass
    return out


def test_damaged_compressed_files_are_one_skip_each_and_give_no_documents(tmp_path: Path) -> None:
    for name, (data, detail) in damaged(tmp_path).items():
        path = tmp_path / name
        path.write_bytes(data)
        items = list(extract(SourceFile(str(path), name, len(data)), ScanConfig()))
        assert len(items) == 1, (name, items[:3])
        (item,) = items
        assert isinstance(item, Skipped) and item.rel == name and item.reason == SkipReason.UNREADABLE
        assert item.detail.startswith(detail), (name, item.detail)
    # In a scan, with good files beside them: the run goes on and lists them.
    (tmp_path / "good.txt").write_text("fine words " * 50, encoding="utf-8")
    result = scan([tmp_path], ScanConfig(jobs=1))
    assert sorted(s.rel for s in result.skipped) == sorted(damaged(tmp_path))
    assert result.summary.documents == 1


@pytest.mark.parametrize("name", ["bomb.jsonl.gz", "bomb.txt.gz", "bomb.jsonl.zst"])
def test_a_decompression_bomb_is_bounded_by_max_bytes(tmp_path: Path, name: str) -> None:
    size = 32 << 20
    payload = b'{"text": "' + b"a" * size + b'"}\n' if ".jsonl" in name else b"a" * size
    if name.endswith(".zst"):
        data = _zstandard().ZstdCompressor(level=3).compress(payload)
    else:
        data = gzip.compress(payload, compresslevel=9)
    del payload
    assert len(data) < size // 500
    path = tmp_path / name
    path.write_bytes(data)
    config = ScanConfig(max_bytes=1 << 20)
    tracemalloc.start()
    try:
        items = list(extract(SourceFile(str(path), name, len(data)), config))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    (item,) = items
    assert isinstance(item, Skipped) and item.reason == SkipReason.TOO_LARGE
    assert "1,048,576 byte limit (--max-bytes)" in item.detail or "more than 1,048,576 bytes" in item.detail
    assert peak < 8 << 20, f"peak {peak:,} bytes for a {size:,}-byte bomb"


def test_a_compressed_file_within_max_bytes_is_read(tmp_path: Path) -> None:
    path = tmp_path / "page.html.gz"
    path.write_bytes(gzip.compress("<html><body><p>Caf\u00e9 one</p><p>two</p></body></html>".encode("cp1252")))
    (doc,) = extract(SourceFile(str(path), "page.html.gz", 1), ScanConfig())
    assert isinstance(doc, Document) and (doc.kind, doc.text, doc.encoding) == ("html", "Caf\u00e9 one\ntwo", "cp1252")
    assert load_text(doc.locator, doc.kind, ScanConfig()) == doc.text


@pytest.mark.parametrize("twin", ["gz", "zst", "parquet", "json.gz"])
def test_load_text_gives_each_record_back_in_any_order(tmp_path: Path, twin: str) -> None:
    if twin == "zst":
        _zstandard()
    if twin == "parquet":
        _parquet()
    twins = write_twins(tmp_path)
    if twin == "json.gz":
        path = tmp_path / "d.json.gz"
        path.write_bytes(gzip.compress(json.dumps(records(), indent=1).encode("utf-8")))
    else:
        path = twins[twin]
    config = ScanConfig()
    docs = [d for d in extract(SourceFile(str(path), path.name, 1), config) if isinstance(d, Document)]
    assert len(docs) == len(records())
    order = list(range(len(docs)))
    random.Random(3).shuffle(order)
    for i in order:
        assert load_text(docs[i].locator, docs[i].kind, config) == docs[i].text


@pytest.mark.parametrize("twin", ["gz", "parquet"])
def test_a_rewritten_file_is_read_again_not_from_the_old_spool(tmp_path: Path, twin: str) -> None:
    if twin == "parquet":
        pa, pq = _parquet()
    path = write_twins(tmp_path)[twin]
    config = ScanConfig()
    docs = [d for d in extract(SourceFile(str(path), path.name, 1), config) if isinstance(d, Document)]
    assert load_text(docs[0].locator, docs[0].kind, config) == docs[0].text  # the spool is made
    changed = [{**r, "text": "changed " + r["text"]} for r in records()]
    if twin == "parquet":
        pq.write_table(pa.Table.from_pylist(changed), path, row_group_size=7)
    else:
        path.write_bytes(gzip.compress(jsonl_bytes(changed)))
    try:
        again: str | None = load_text(docs[0].locator, docs[0].kind, config)
    except ValueError:  # the record's bytes moved: its span is no longer one record
        again = None
    assert again != docs[0].text  # a stale spool would give the old text back


@pytest.mark.parametrize("twin", ["gz", "parquet"])
def test_members_of_a_file_rewritten_before_ranking_are_changed_during_scan(tmp_path: Path, twin: str) -> None:
    if twin == "parquet":
        pa, pq = _parquet()
    path = write_twins(tmp_path / "in")[twin]
    for other in (tmp_path / "in").iterdir():
        if other != path:
            other.unlink()
    changed = [{**r, "text": r["text"] + "\nan extra line"} for r in records()]

    class Rewrite(Saboteur):
        def start(self, stage: str, total: int | None) -> None:
            if stage == RANKING and not self.fired:
                self.fired = True
                if twin == "parquet":
                    pq.write_table(pa.Table.from_pylist(changed), path, row_group_size=7)
                else:
                    path.write_bytes(gzip.compress(jsonl_bytes(changed)))

    saboteur = Rewrite(RANKING, "rewrite", [])
    result = scan([path], ScanConfig(jobs=1), progress=saboteur)
    assert saboteur.fired
    assert not result.clusters
    assert len(result.skipped) == 15 and {s.reason for s in result.skipped} == {SkipReason.CHANGED_DURING_SCAN}


def test_zstd_without_zstandard_is_a_skip_naming_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zstandard", None)  # what a machine without zstandard gives: ImportError
    for name in ("d.jsonl.zst", "d.txt.zst"):
        path = tmp_path / name
        path.write_bytes(b"\x28\xb5\x2f\xfd anything")
        (item,) = extract(SourceFile(str(path), name, 1), ScanConfig())
        assert item == Skipped(
            name, SkipReason.EXTRACT_FAILED, "reading zstd files needs zstandard: pip install 'dedup[zstd]'"
        )


@pytest.mark.parametrize("name", ["x.jsonl.gz", "x.txt.gz", "x.json.zst", "x.md.zst", "x.parquet"])
def test_random_and_cut_bytes_in_any_form_are_skips_never_errors(tmp_path: Path, name: str) -> None:
    """Random bytes, and every cut of a valid file, give documents or one-line skips."""
    rng = random.Random(name)
    valid = jsonl_bytes(records()[:3])
    if name.endswith(".gz"):
        valid = gzip.compress(valid)
    elif name.endswith(".zst"):
        valid = _zstandard().ZstdCompressor().compress(valid)
    else:
        pa, pq = _parquet()
        sink = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(records()[:3]), sink)
        valid = sink.getvalue()
    cases = [rng.randbytes(rng.randrange(0, 300)) for _ in range(30)]
    cases += [valid[:cut] for cut in range(0, len(valid), max(1, len(valid) // 40))]
    cases += [valid[:10] + rng.randbytes(50) + valid[60:]]
    path = tmp_path / name
    for data in cases:
        path.write_bytes(data)
        for item in extract(SourceFile(str(path), name, len(data)), ScanConfig()):
            if isinstance(item, Skipped):
                assert item.detail and "\n" not in item.detail and "Traceback" not in item.detail
            else:
                assert isinstance(item, Document) and item.text
