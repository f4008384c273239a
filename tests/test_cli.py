"""The command line: exit codes, streams, exports and bad input, through CliRunner and a real process."""

from __future__ import annotations

import csv
import gc
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PLAIN, SAMPLES, WRAPPED

from dedup import __version__
from dedup.cli import COLLECT_EVERY, main


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_help_lists_commands(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--help"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "scan" in result.stdout


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"], catch_exceptions=False)
    assert result.stdout == f"dedup, version {__version__}\n"


def test_installed_version_is_the_package_version() -> None:
    from importlib.metadata import version

    assert version("dedup") == __version__  # pyproject.toml reads it from dedup/__init__.py


def test_program_sets_collector_but_main_does_not(runner: CliRunner) -> None:
    """``python -m dedup`` relaxes the cycle collector in its own process; ``main`` in ours leaves it."""
    before = gc.get_threshold()
    runner.invoke(main, ["--version"], catch_exceptions=False)
    assert gc.get_threshold() == before
    code = "import atexit, gc, runpy; atexit.register(lambda: print(gc.get_threshold())); runpy.run_module('dedup')"
    proc = subprocess.run([sys.executable, "-c", code, "--version"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"dedup, version {__version__}", f"({COLLECT_EVERY}, 50, 100)"]


def test_scan_samples_report(runner: CliRunner, samples_dir: Path) -> None:
    result = runner.invoke(main, ["scan", str(samples_dir)], catch_exceptions=False, terminal_width=100)
    assert result.exit_code == 0
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert "Cluster 1 · 2 copies · dropping saves 7.0 KB" in lines
    cleanest = next(line for line in lines if line.startswith("★ cleanest"))
    assert PLAIN in cleanest
    wrapped = next(line for line in lines if WRAPPED in line)
    assert "51.9%" in wrapped and "99.3%" in wrapped
    assert "跳至主要内容" in result.stdout
    assert "Cluster 2" not in result.stdout
    assert result.stderr == ""  # not a terminal: no progress bars


def test_progress_is_shown_on_a_terminal(samples_dir: Path, tmp_path: Path) -> None:
    # A real process whose stderr rich takes for a terminal (FORCE_COLOR): the progress
    # display, imported only then, shows the stages and leaves the report and export alone.
    out = tmp_path / "out.json"
    env = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": "100"}
    args = [sys.executable, "-m", "dedup", "scan", str(samples_dir), "--output", str(out), "--no-cache"]
    proc = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "finding files" in proc.stderr and "hashing" in proc.stderr and "0/5" in proc.stderr
    assert "Cluster 1" in proc.stdout
    assert json.loads(out.read_text(encoding="utf-8"))["summary"]["clusters"] == 1


def test_json_to_stdout_is_machine_output_only(runner: CliRunner, samples_dir: Path) -> None:
    result = runner.invoke(main, ["scan", str(samples_dir), "--output", "-"], catch_exceptions=False)
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["schema"] == "dedup.scan/1"
    assert [[(m["id"], m["cleanest"]) for m in c["members"]] for c in doc["clusters"]] == [
        [(PLAIN, True), (WRAPPED, False)]
    ]
    assert doc["summary"]["documents"] == 5 and doc["skipped"] == []
    assert doc["params"]["num_perm"] == 128


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_exports_and_lists(runner: CliRunner, samples_dir: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"clusters.{fmt}"
    keep, drop = tmp_path / "keep.txt", tmp_path / "drop.txt"
    args = ["scan", str(samples_dir), "-q", "-o", str(out), "--keep-list", str(keep), "--drop-list", str(drop)]
    result = runner.invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0 and result.stdout == ""
    text = out.read_text(encoding="utf-8")
    if fmt == "json":
        ids = [m["id"] for c in json.loads(text)["clusters"] for m in c["members"]]
    elif fmt == "jsonl":
        ids = [json.loads(line)["id"] for line in text.splitlines()]
    else:
        ids = [row["id"] for row in csv.DictReader(text.splitlines())]
    assert ids == [PLAIN, WRAPPED]
    assert drop.read_text() == f"{WRAPPED}\n"
    assert WRAPPED not in keep.read_text() and len(keep.read_text().splitlines()) == 4


def test_format_flag_overrides_extension(runner: CliRunner, samples_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "clusters.txt"
    result = runner.invoke(main, ["scan", str(samples_dir), "-q", "-o", str(out), "--format", "jsonl"])
    assert result.exit_code == 0
    assert json.loads(out.read_text().splitlines()[0])["id"] == PLAIN


def test_fail_on_duplicates_exit_codes(runner: CliRunner, samples_dir: Path, tmp_path: Path) -> None:
    assert runner.invoke(main, ["scan", str(samples_dir), "-q", "--fail-on-duplicates"]).exit_code == 1
    unique = tmp_path / "unique"
    unique.mkdir()
    shutil.copy(SAMPLES / PLAIN, unique)
    result = runner.invoke(main, ["scan", str(unique), "--fail-on-duplicates"])
    assert result.exit_code == 0
    assert "No near-duplicates found among 1 document." in result.stdout


def test_missing_path_is_an_error_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["scan", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and "nope" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_contradicting_options_are_usage_errors(runner: CliRunner, samples_dir: Path) -> None:
    result = runner.invoke(main, ["scan", str(samples_dir), "--num-perm", "100", "--bands", "32"])
    assert result.exit_code == 2
    assert "Error: num_perm (100) must be a multiple of bands (32)" in result.stderr


def test_unknown_export_extension_is_a_usage_error(runner: CliRunner, samples_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(main, ["scan", str(samples_dir), "-o", str(tmp_path / "x.txt")])
    assert result.exit_code == 2
    assert "--format" in result.stderr


def test_unwritable_export_is_an_error_exit_2(runner: CliRunner, samples_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(main, ["scan", str(samples_dir), "-q", "-o", str(tmp_path / "no" / "dir" / "x.json")])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: cannot write")


def test_bad_inputs_are_reported_and_the_run_goes_on(runner: CliRunner, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in (PLAIN, WRAPPED):
        shutil.copy(SAMPLES / name, corpus / name)
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (corpus / "bad.jsonl").write_bytes(b'{"id": "r1", "text": "fine"}\nnot json\n')
    # Two copies of one text under hostile names: they form a cluster, so the report names them.
    twin = "the same short note saved twice under two odd names, with \x1b[2J an escape inside"
    (corpus / "[bold]markup[link=x].txt").write_text(twin, encoding="utf-8")
    (corpus / "esc\x1b[31m.txt").write_text(twin, encoding="utf-8")
    (corpus / "loop").symlink_to(corpus)
    before = {p.name: p.read_bytes() for p in corpus.iterdir() if p.is_file() and not p.is_symlink()}
    result = runner.invoke(main, ["scan", str(corpus), "--verbose"], terminal_width=160)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Traceback" not in result.output
    assert "\x1b" not in result.output
    assert "[bold]markup[link=x].txt" in out  # printed literally, not as markup
    assert "esc\\x1b[31m.txt" in out  # the escape is shown, never sent
    for reason in ("empty", "binary", "bad-record", "symlink-loop"):
        assert reason in out
    assert "Cluster 1 · 2 copies" in out and "Cluster 2 · 2 copies" in out
    after = {p.name: p.read_bytes() for p in corpus.iterdir() if p.is_file() and not p.is_symlink()}
    assert after == before


def test_installed_entry_point_runs(samples_dir: Path, tmp_path: Path) -> None:
    exe = shutil.which("dedup")
    cmd = [exe] if exe else [sys.executable, "-m", "dedup"]
    out = tmp_path / "out.json"
    proc = subprocess.run(
        [*cmd, "scan", str(samples_dir), "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "100"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert PLAIN in proc.stdout and proc.stderr == ""
    assert json.loads(out.read_text())["clusters"][0]["cleanest"] == PLAIN


def test_python_dash_m(samples_dir: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "dedup", "scan", str(samples_dir), "-q", "--fail-on-duplicates"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1 and proc.stdout == "" and proc.stderr == ""


def test_cache_commands_and_no_cache(runner: CliRunner, samples_dir: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    result = runner.invoke(main, ["cache", "info", "--cache-dir", str(cache_dir)], catch_exceptions=False)
    assert result.stdout.splitlines()[1] == "empty (no cache file yet)"
    runner.invoke(main, ["scan", str(samples_dir), "-q", "--no-cache", "--cache-dir", str(cache_dir)])
    assert not cache_dir.exists()
    runner.invoke(main, ["scan", str(samples_dir), "-q", "--cache-dir", str(cache_dir)], catch_exceptions=False)
    lines = runner.invoke(main, ["cache", "info", "--cache-dir", str(cache_dir)]).stdout.splitlines()
    assert lines[1:5] == ["files: 5", "contents: 5", "rankings: 1", "scan results: 1"]
    result = runner.invoke(main, ["cache", "clear", "--cache-dir", str(cache_dir)], catch_exceptions=False)
    assert result.stdout.startswith("deleted ")


def test_eval_on_a_generated_corpus(runner: CliRunner, tmp_path: Path) -> None:
    from dedup.corpus import generate

    folder = tmp_path / "corpus"
    generate(folder, seed=3, articles=12)
    out = tmp_path / "scores.json"
    args = ["eval", str(folder), "--truth", str(folder / "truth.jsonl"), "--exact", "--json", str(out)]
    result = runner.invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0
    assert "Pair precision" in result.stdout and "Candidates lose" in result.stdout
    scores = json.loads(out.read_text())
    assert scores["precision"] >= 0.99 and scores["recall"] >= 0.9
    assert scores["exhaustive"]["missed_by_candidates"] == 0
    assert scores["unknown_truth_ids"] == 0  # truth.jsonl itself was not scanned as a document


def test_eval_bad_truth_is_one_line_error(runner: CliRunner, samples_dir: Path, tmp_path: Path) -> None:
    truth = tmp_path / "truth.jsonl"
    truth.write_text('{"cluster": 1, "ids": "not a list"}\n')
    result = runner.invoke(main, ["eval", str(samples_dir), "--truth", str(truth)])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and len(result.stderr.splitlines()) == 1


def _bad_input(folder: Path, kind: str) -> tuple[str, str | None]:
    """Put one bad input into `folder`; return (a name the report must show or "", expected reason)."""
    text = "Ein schöner Tag für die Stadt Zürich, sagte der Bürgermeister – „gut“ €5. " * 20
    if kind == "empty":
        (folder / "empty.txt").write_bytes(b"")
        return "empty.txt", "empty"
    if kind == "binary":
        (folder / "blob.bin").write_bytes(bytes(range(256)) * 40)
        return "blob.bin", "binary"
    if kind == "invalid-utf8":
        (folder / "bad.txt").write_bytes(text.encode("utf-8")[:200] + b"\xff\xfe\xc3(" + text.encode("utf-8")[200:])
    elif kind == "cp1252":
        (folder / "w.txt").write_bytes(text.encode("cp1252"))
    elif kind == "gbk":
        (folder / "zh.txt").write_bytes(("南京供应链迎来主要住房改革，市政府表示将继续推进。" * 20).encode("gbk"))
    elif kind == "utf16-bom":
        (folder / "u16.txt").write_bytes(text.encode("utf-16"))
    elif kind == "50mb-line":
        with open(folder / "huge.txt", "w", encoding="utf-8") as f:
            words = " ".join(f"w{i}" for i in range(1000)) + " "
            for _ in range(50 * 1024 * 1024 // len(words) + 1):
                f.write(words)
    elif kind == "unreadable":
        (folder / "gone.txt").symlink_to(folder / "no-such-target.txt")
        return "gone.txt", "unreadable"
    elif kind == "symlink-loop":
        (folder / "sub").mkdir()
        (folder / "sub" / "up").symlink_to(folder)
        return "sub/up", "symlink-loop"
    elif kind == "non-utf8-name":
        os.close(os.open(os.fsencode(folder) + b"/caf\xe9.txt", os.O_CREAT | os.O_WRONLY))
        return "caf\\xe9.txt", "empty"
    elif kind == "escapes":
        (folder / "esc\x1b]0;title\x07.txt").write_text("\x1b[2J\x1b[31mred\x9b text " * 30, encoding="utf-8")
        (folder / "esc2\x1b[1m.txt").write_text("\x1b[2J\x1b[31mred\x9b text " * 30, encoding="utf-8")
        return "esc\\x1b", None
    return "", None


BAD_KINDS = ["empty", "binary", "invalid-utf8", "cp1252", "gbk", "utf16-bom", "50mb-line", "unreadable",
             "symlink-loop", "non-utf8-name", "escapes"]  # fmt: skip


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_every_bad_input_is_reported_and_the_run_goes_on(runner: CliRunner, tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "corpus"
    shutil.copytree(SAMPLES, folder)
    shown, reason = _bad_input(folder, kind)
    result = runner.invoke(main, ["scan", str(folder), "--verbose", "--no-cache"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "\x1b" not in result.output and "\x9b" not in result.output
    lines = [line for line in result.stdout.splitlines() if shown and shown in line]
    if shown:
        assert lines, f"{shown!r} not in the report"
    if reason is not None:
        assert reason in lines[0]
    elif kind != "escapes":  # a readable file in an odd encoding or size: read as a sixth document
        assert re.search(r"Documents\s+6\b", result.stdout)
    cleanest = next(line for line in result.stdout.splitlines() if line.startswith("★ cleanest"))
    assert PLAIN in cleanest or kind == "escapes"  # the real pair is still found and ranked
    assert f"Cluster {2 if kind == 'escapes' else 1} · 2 copies" in result.stdout
