"""Defects of issue 16's new-user trial (items 5, 9-12) and of a second trial: cluster numbers,
a damaged cache, output at 80 columns, the skipped list, wording and misuse."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from click.testing import CliRunner
from conftest import SAMPLES

from dedup.cli import main

NARROW = {"COLUMNS": "80"}


def _run(args: list[str], env: dict[str, str] | None = None, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args, env=env or NARROW, input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _folder_with_bad_records(tmp_path: Path) -> Path:
    """samples/ plus a JSON Lines file of 12 records without text, one record with text, and
    one record with a text of another type: the skipped list the corpus's truth.jsonl gives."""
    folder = tmp_path / "c"
    shutil.copytree(SAMPLES, folder)
    lines = [json.dumps({"cluster": f"a{i}", "ids": [f"x{i}"]}) for i in range(1, 13)]
    lines.insert(6, json.dumps({"text": "a record with a text of its own, long enough to be a document here"}))
    lines.append(json.dumps({"text": 5}))
    (folder / "truth.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return folder


def test_skipped_records_are_listed_by_number_and_alike_ones_grouped(tmp_path: Path) -> None:
    folder = _folder_with_bad_records(tmp_path)
    code, out, _err = _run(["scan", str(folder), "-o", str(tmp_path / "s.json")])
    assert code == 0
    table = out.split("\nSkipped\n", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    rows = [line for line in table if not line.startswith(" ")]
    # the 12 records without text are one row (lines 1-6 and 8-13), then line 14, by number
    assert len(rows) == 2, table
    assert rows[0].startswith("truth.jsonl ") and "12 lines (1-6, 8-13): no 'text' field" in rows[0]
    assert rows[1].startswith("truth.jsonl:14 ")
    # the export keeps one entry a record
    skipped = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))["skipped"]
    assert len(skipped) == 13


def test_skipped_list_sorts_line_numbers_as_numbers(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    shutil.copytree(SAMPLES, folder)
    # every record bad in its own way: none are grouped, so the order shows
    lines = [json.dumps({"text": [i] * i}) if i % 2 else json.dumps({"body": i, f"f{i}": 1}) for i in range(1, 13)]
    (folder / "r.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    code, out, _err = _run(["scan", str(folder), "-v"])
    assert code == 0
    names = re.findall(r"^(r\.jsonl:\d+) ", out, re.MULTILINE)
    assert names == [f"r.jsonl:{i}" for i in range(1, 13)]


def test_no_line_of_the_scan_report_ends_in_spaces(tmp_path: Path) -> None:
    folder = _folder_with_bad_records(tmp_path)
    for args in (["scan", str(folder)], ["scan", str(folder), "-v", "--top", "1"]):
        code, out, _err = _run(args)
        assert code == 0
        padded = [line for line in out.splitlines() if line != line.rstrip()]
        assert padded == []
        assert max(len(line) for line in out.splitlines()) <= 80
        assert "Next:" in out


def test_the_report_says_the_largest_for_one_cluster_shown(tmp_path: Path) -> None:
    folder = _folder_with_bad_records(tmp_path)
    shutil.copy(folder / "002_9e8087d3640a9bf4.txt", folder / "002_copy.txt")
    code, out, _err = _run(["scan", str(folder), "--top", "1"])
    assert code == 0
    assert "(the largest shown)" in out and "the 1 largest" not in out


def _unpack(page: str, block: str) -> object:
    import base64
    import zlib

    found = re.search(f'<script type="application/octet-stream" id="{block}"[^>]*>([^<]*)</script>', page)
    assert found is not None
    return json.loads(zlib.decompress(base64.b64decode(found.group(1)), 31))


def test_report_html_and_exports_give_a_cluster_one_number(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    # "a_" files: a small cluster, first by name (number 1); the samples' pair saves more, so the
    # report shows it first, under its own number 2
    small = (SAMPLES / "002_9e8087d3640a9bf4.txt").read_text(encoding="utf-8")
    (folder / "a_1.txt").write_text(small, encoding="utf-8")
    (folder / "a_2.txt").write_text(small, encoding="utf-8")
    for name in ("000_8bcd120cc8060ff3.txt", "001_288da1160778f453.txt"):
        shutil.copy(SAMPLES / name, folder / f"b_{name}")
    code, out, _err = _run(["scan", str(folder), "-o", str(tmp_path / "s.json"), "--html", str(tmp_path / "r.html")])
    assert code == 0
    export = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    kept = {c["cluster"]: c["cleanest"] for c in export["clusters"]}
    assert kept == {1: "a_1.txt", 2: "b_000_8bcd120cc8060ff3.txt"}
    shown = re.findall(r"^Cluster (\d+) .*\n.*\n.*\n★ cleanest  (\S+)", out, re.MULTILINE)
    assert shown == [("2", kept[2]), ("1", kept[1])]  # largest saving first, each under its export number
    page = _unpack((tmp_path / "r.html").read_text(encoding="utf-8"), "data-clusters")
    assert isinstance(page, dict)
    assert [row[0] for row in page["clusters"]] == [2, 1]
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert "in report order" not in readme
    assert "the report and --html show this number" in readme


# --- a damaged cache (item 9) -------------------------------------------------------------


def _cached_scan(cache_dir: Path) -> Path:
    code, _out, err = _run(["scan", str(SAMPLES), "-q", "--cache-dir", str(cache_dir)])
    assert code == 0 and err == ""
    path = cache_dir / "signatures.sqlite"
    assert path.is_file()
    return path


def test_cache_clear_deletes_a_damaged_cache_file_and_nothing_else(tmp_path: Path) -> None:
    path = _cached_scan(tmp_path / "cc")
    with path.open("r+b") as f:  # as `printf garbage > signatures.sqlite` does: same file, same mode
        f.truncate(0)
        f.write(b"garbage")
    (tmp_path / "cc" / "notes.txt").write_text("mine", encoding="utf-8")
    code, _out, err = _run(["scan", str(SAMPLES), "-q", "--cache-dir", str(tmp_path / "cc")])
    assert code == 0
    assert err.count("\n") == 1 and err.startswith("warning: signature cache not used")
    assert err.rstrip().endswith(f"dedup cache clear --cache-dir {tmp_path / 'cc'} deletes it")
    code, _out, err = _run(["cache", "info", "--cache-dir", str(tmp_path / "cc")])
    assert code == 2 and err.count("\n") == 1 and "the cache file is damaged (not an SQLite file)" in err
    code, out, err = _run(["cache", "clear", "--cache-dir", str(tmp_path / "cc")])
    assert (code, err) == (0, "")
    assert out == f"deleted {path} (it was damaged: not an SQLite file)\n"
    assert sorted(p.name for p in (tmp_path / "cc").iterdir()) == ["notes.txt"]
    _cached_scan(tmp_path / "cc")  # and the next scan makes a new one


def test_cache_clear_leaves_a_file_it_did_not_make(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    path = folder / "signatures.sqlite"
    path.write_bytes(b"not a database")
    path.chmod(0o644)  # readable by others: dedup makes its cache 0600
    code, out, err = _run(["cache", "clear", "--cache-dir", str(folder)])
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "left alone" in err and "if it is a damaged cache, delete it" in err
    assert path.read_bytes() == b"not a database"
    code, _out, err = _run(["scan", str(SAMPLES), "-q", "--cache-dir", str(folder)])
    assert code == 0 and err.count("\n") == 1 and "deletes it" not in err  # no advice that would be refused


def test_a_cache_whose_schema_does_not_decode_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    path = _cached_scan(tmp_path / "cc")
    data = path.read_bytes()
    at = data.index(b"AUTOINCREMENT")
    path.write_bytes(data[: at + 3] + b"\xc5" + data[at + 4 :])  # one byte of the schema's text, flipped
    code, _out, err = _run(["scan", str(SAMPLES), "-q", "--cache-dir", str(tmp_path / "cc")])
    assert code == 0, err
    assert err.count("\n") == 1 and err.startswith("warning: signature cache not used") and "deletes it" in err
    code, out, err = _run(["cache", "clear", "--cache-dir", str(tmp_path / "cc")])
    assert code == 0 and out.startswith(f"deleted {path} (it was damaged: an unreadable SQLite file")
    assert not path.exists()


# --- wording and misuse (item 12) ---------------------------------------------------------


def test_explain_on_a_folder_says_it_is_a_folder() -> None:
    code, out, err = _run(["explain", str(SAMPLES), str(SAMPLES / "000_8bcd120cc8060ff3.txt")])
    assert code == 2 and out == ""
    assert err == (f"Error: {SAMPLES} is a folder: explain takes two documents, each a file or a record (FILE:ID)\n")


def test_corpus_line_counts_add_up(tmp_path: Path) -> None:
    out_dir = tmp_path / "c"
    code, out, _err = _run(["corpus", str(out_dir), "--seed", "0", "--articles", "6"])
    assert code == 0
    found = re.match(r"wrote (\d+) documents \((\d+) files, (\d+) records? in records\.jsonl\) from ", out)
    assert found is not None, out
    documents, files, records = map(int, found.groups())
    on_disk = [p for p in out_dir.rglob("*") if p.is_file() and p.name not in ("records.jsonl", "truth.jsonl")]
    lines = (out_dir / "records.jsonl").read_text(encoding="utf-8").splitlines()
    assert (files, records) == (len(on_disk), len(lines))
    assert files + records == documents


def test_counts_of_one_read_as_one(tmp_path: Path) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    text = (SAMPLES / "002_9e8087d3640a9bf4.txt").read_text(encoding="utf-8")
    (folder / "a.txt").write_text(text, encoding="utf-8")
    (folder / "b.txt").write_text(text.rstrip("\n") + " Zanzibar\n", encoding="utf-8")  # one word of its own
    code, out, _err = _run(["scan", str(folder), "-o", str(tmp_path / "s.json")])
    assert code == 0
    export = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    member = export["clusters"][0]["members"][1]
    assert member["own_words"] == 1 and "+1 word outside the shared text" in member["reasons"]
    notes = " ".join(out.split())  # the notes as one line, however the terminal wrapped them
    assert "; 1 own word, all boilerplate; +1 word outside the shared text" in notes, out
    code, out, _err = _run(["apply", str(tmp_path / "s.json")])
    assert code == 0 and out.startswith("Plan: move 1 dropped file (")
    code, out, _err = _run(["apply", str(tmp_path / "s.json"), "--quarantine", str(tmp_path / "q"), "--yes"])
    assert code == 0 and "Done: moved 1 file (" in out, out
    manifest = tmp_path / "q" / "dedup-manifest.json"
    code, out, _err = _run(["undo", str(manifest)])
    assert (code, out) == (0, "Restored 1 file.\n")
    code, out, _err = _run(["undo", str(manifest)], env={"COLUMNS": "300"})  # again: nothing to put back
    assert (code, out) == (0, f"Nothing to undo: every step of {manifest} was undone before.\n")
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "a.txt").write_text(text, encoding="utf-8")
    code, out, _err = _run(["scan", str(lone)])
    assert code == 0 and "No near-duplicates found among 1 document." in out


def test_explain_counts_read_right() -> None:
    a, b = SAMPLES / "000_8bcd120cc8060ff3.txt", SAMPLES / "001_288da1160778f453.txt"
    code, out, _err = _run(["explain", str(a), str(b)])
    assert code == 0
    assert re.search(r"shared: [\d,]+ words in 1 passage;", out) or re.search(r"in [\d,]+ passages;", out)
    assert not re.search(r"\b1 (words|shingles|passages)\b", out)
    assert [line for line in out.splitlines() if line != line.rstrip()] == []


def test_eval_mistakes_show_whole_names_at_80_columns(tmp_path: Path) -> None:
    out_dir = tmp_path / "c"
    assert _run(["corpus", str(out_dir), "--seed", "1", "--articles", "6"])[0] == 0
    strict = ["--jaccard", "0.95", "--containment", "0.95"]  # so that some true pairs are missed
    code, out, _err = _run(["eval", str(out_dir), "--truth", str(out_dir / "truth.jsonl"), *strict])
    assert code == 0
    table = out.split("Missed pairs, most similar first\n", 1)[1]
    names = re.findall(r"^ ?(site\d/[0-9a-f]{12}\.\w+)\s", table, re.MULTILINE)
    assert len(names) >= 4 and len(names) % 2 == 0, table  # each pair's two documents, whole
    assert table.splitlines()[0].split() == [
        "documents",
        "kinds",
        "Jaccard",
        "contain.",
        "a",
        "in",
        "b",
        "b",
        "in",
        "a",
        "rule",
    ]
    assert [line for line in out.splitlines() if line != line.rstrip() or len(line) > 80] == []


def test_apply_names_an_undecodable_kept_copy_as_the_report_does(tmp_path: Path) -> None:
    folder = tmp_path / "nu"
    folder.mkdir()
    odd = os.fsdecode(b"lat\xe9.txt")
    shutil.copy(SAMPLES / "000_8bcd120cc8060ff3.txt", folder / odd)
    shutil.copy(SAMPLES / "001_288da1160778f453.txt", folder)
    code, out, _err = _run(["scan", str(folder), "-o", str(tmp_path / "s.json")])
    assert code == 0 and "lat\\xe9.txt" in out.split()
    code, out, _err = _run(["apply", str(tmp_path / "s.json")], env={"COLUMNS": "200"})
    assert code == 0
    assert "(kept: lat\\xe9.txt)" in out, out


def test_html_report_lists_skipped_records_by_number(tmp_path: Path) -> None:
    folder = _folder_with_bad_records(tmp_path)
    code, _out, _err = _run(["scan", str(folder), "-q", "--html", str(tmp_path / "r.html")])
    assert code == 0
    page = _unpack((tmp_path / "r.html").read_text(encoding="utf-8"), "data-clusters")
    assert isinstance(page, dict)
    names = [row[0] for row in page["skipped"]]
    assert names == [f"truth.jsonl:{n}" for n in (1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14)]


def test_the_closing_lines_name_the_files_the_scan_wrote(tmp_path: Path) -> None:
    export, page = tmp_path / "my scan.json", tmp_path / "r\x1b.html"
    code, out, _err = _run(["scan", str(SAMPLES), "-o", str(export), "--html", str(page)], env={"COLUMNS": "200"})
    assert code == 0
    steps = out.split("\nNext:\n", 1)[1]
    assert re.search(rf"^  dedup apply '{re.escape(str(export))}' +quarantine", steps, re.MULTILINE)
    assert re.search(rf"^  {re.escape(str(tmp_path))}/r\\x1b\.html +open it in a browser", steps, re.MULTILINE)
    assert "\x1b" not in out
    assert "--output scan.json" not in steps and "--html report.html" not in steps
    code, out, _err = _run(["scan", str(SAMPLES), "-o", str(tmp_path / "s.csv")], env={"COLUMNS": "200"})
    assert "dedup apply scan.json" in out and "--output scan.json" in out  # apply needs the JSON export


def test_explain_reasons_wrap_under_their_text_and_name_a_document_given_twice() -> None:
    a, b = SAMPLES / "000_8bcd120cc8060ff3.txt", SAMPLES / "001_288da1160778f453.txt"
    code, out, _err = _run(["explain", str(a), str(b)], env={"COLUMNS": "60"})
    assert code == 0
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("· "))
    block = lines[start : lines.index("", start)]
    assert len(block) > 2 and all(line.startswith(("· ", "  ")) for line in block), block
    code, out, _err = _run(["explain", str(a), str(a)], env={"COLUMNS": "200"})
    assert code == 0 and "· A and B name the same document: it is compared with itself" in out


def test_eval_given_a_scan_export_as_truth_says_what_truth_is(tmp_path: Path) -> None:
    assert _run(["scan", str(SAMPLES), "-q", "-o", str(tmp_path / "s.json")])[0] == 0
    code, out, err = _run(["eval", str(SAMPLES), "--truth", str(tmp_path / "s.json")], env={"COLUMNS": "300"})
    assert (code, out) == (2, "")
    assert err == (
        f"Error: {tmp_path / 's.json'} is a dedup.scan/1 file, not a truth file: --truth takes JSON Lines, "
        'one {"cluster": ..., "ids": [...], "cleanest": [...]} a line\n'
    )
    (tmp_path / "one.jsonl").write_text('{"ids": ["a", "b"]}\n', encoding="utf-8")  # a real line's own error stands
    code, _out, err = _run(["eval", str(SAMPLES), "--truth", str(tmp_path / "one.jsonl")])
    assert code == 2 and "one.jsonl:1: " in err and "not a truth file" not in err
