"""dedup apply and undo misused as a new user did: malformed manifests and exports, the wrong
export type, --annotate without --write, standard input in the decision table, a run that
could do nothing, and output wider than the terminal. Each is one ``Error:`` line and exit 2
(or a plain report), never a traceback, and no file is touched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PLAIN, SAMPLES, WRAPPED

import dedup

ENV = {**os.environ, "PYTHONPATH": str(Path(dedup.__file__).resolve().parent.parent)}


def run(*args: str, cwd: Path, stdin: bytes | None = None, columns: int = 80) -> subprocess.CompletedProcess[str]:
    env = {**ENV, "COLUMNS": str(columns)}
    return subprocess.run(
        [sys.executable, "-m", "dedup", *args], cwd=cwd, input=stdin.decode() if stdin else None,
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


def one_error(proc: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


@pytest.fixture
def scanned(tmp_path: Path) -> tuple[Path, Path]:
    """A folder of the samples plus a copy of the plain article, and its JSON export."""
    root = tmp_path / "scraped"
    shutil.copytree(SAMPLES, root)
    shutil.copyfile(SAMPLES / PLAIN, root / "again.txt")
    out = tmp_path / "scan.json"
    proc = run("scan", str(root), "-q", "--no-cache", "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return root, out


@pytest.mark.parametrize(
    "manifest",
    [
        {"schema": "dedup.manifest/1"},
        {"schema": "dedup.manifest/1", "steps": [{"bogus": 1}]},
        {"schema": "dedup.manifest/1", "steps": "none"},
        {"schema": "dedup.manifest/1", "steps": [{"op": "move", "path": 3, "to": "x", "blake2b": "ab"}]},
        {"schema": "dedup.manifest/1", "steps": [{"op": "melt", "path": "/x", "to": "/y", "blake2b": "ab"}]},
    ],
)
def test_a_malformed_manifest_is_one_error_line(tmp_path: Path, manifest: dict[str, object]) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    line = one_error(run("undo", str(path), cwd=tmp_path))
    assert "m.json" in line and "manifest" in line
    assert json.loads(path.read_text(encoding="utf-8")) == manifest  # not rewritten


@pytest.mark.parametrize(
    "change",
    ["no decision", "bytes big", "documents not a list", "row not an object", "record text"],
)
def test_a_malformed_export_is_one_error_line(scanned: tuple[Path, Path], tmp_path: Path, change: str) -> None:
    root, out = scanned
    data = json.loads(out.read_text(encoding="utf-8"))
    rows = data["documents"]
    if change == "no decision":
        del rows[0]["decision"]
    elif change == "bytes big":
        for row in rows:
            row["bytes"] = "big"
    elif change == "documents not a list":
        data["documents"] = {"x": 1}
    elif change == "row not an object":
        rows[1] = 7
    else:
        rows[0]["record"] = "one"
    out.write_text(json.dumps(data), encoding="utf-8")
    before = sorted(p.name for p in root.iterdir())
    line = one_error(run("apply", str(out), "--quarantine", str(tmp_path / "q"), "--yes", cwd=tmp_path))
    assert "scan.json" in line
    assert sorted(p.name for p in root.iterdir()) == before
    assert not (tmp_path / "q").exists()


def test_minimal_export_row_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"schema": "dedup.scan/1", "documents": [{"id": "x"}]}), encoding="utf-8")
    one_error(run("apply", str(path), cwd=tmp_path))


@pytest.mark.parametrize("kind", ["decisions.jsonl", "decisions.csv", "keep.txt"])
def test_the_wrong_export_type_says_what_apply_needs(scanned: tuple[Path, Path], tmp_path: Path, kind: str) -> None:
    root, _ = scanned
    target = tmp_path / kind
    option = "--keep-list" if kind == "keep.txt" else "--decisions"
    assert run("scan", str(root), "-q", "--no-cache", option, str(target), cwd=tmp_path).returncode == 0
    line = one_error(run("apply", str(target), cwd=tmp_path))
    assert "JSON export of dedup scan" in line, line
    assert "Extra data" not in line and "Expecting" not in line


def test_annotate_without_write_is_an_error(scanned: tuple[Path, Path], tmp_path: Path) -> None:
    _, out = scanned
    line = one_error(run("apply", str(out), "--annotate", cwd=tmp_path))
    assert "--annotate" in line and "--write" in line


def test_standard_input_twice_is_an_error(tmp_path: Path) -> None:
    line = one_error(run("scan", "-", "-", "-q", "--no-cache", cwd=tmp_path, stdin=(SAMPLES / PLAIN).read_bytes()))
    assert "standard input" in line


@pytest.mark.parametrize("first", ["stdin", "file"])
def test_standard_input_stays_dash_and_apply_never_acts_on_it(tmp_path: Path, first: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copyfile(SAMPLES / PLAIN, folder / PLAIN)
    (tmp_path / "-").write_bytes((SAMPLES / PLAIN).read_bytes())  # a real file named "-" must not be taken for it
    paths = ["-", str(folder / PLAIN)] if first == "stdin" else [str(folder / PLAIN), "-"]
    stdin = (SAMPLES / PLAIN).read_bytes()
    proc = run("scan", *paths, "-q", "--no-cache", "--absolute", "--keep-list", "-", "-o", "s.json",
               cwd=tmp_path, stdin=stdin)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "dedup-" not in proc.stdout and "stdin" not in proc.stdout, proc.stdout
    data = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    row = next(r for r in data["documents"] if r["path"] == "-")
    assert row["absolute"] == "-" and row["root"] == "-", row
    plan = run("apply", "s.json", cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    assert "standard input" in plan.stdout, plan.stdout
    before = {p.name for p in tmp_path.rglob("*")}
    done = run("apply", "s.json", "--quarantine", str(tmp_path / "q"), "--yes", cwd=tmp_path)
    assert "vanished" not in done.stdout, done.stdout
    assert (folder / PLAIN).exists() and (tmp_path / "-").read_bytes() == stdin
    assert {p.name for p in tmp_path.rglob("*")} == before  # nothing moved, no folder, no manifest


def test_a_run_that_can_do_nothing_says_so_and_leaves_no_trace(scanned: tuple[Path, Path], tmp_path: Path) -> None:
    root, out = scanned
    for name in (PLAIN, "again.txt"):
        with open(root / name, "a", encoding="utf-8") as f:
            f.write("\nedited after the scan\n")
    quarantine = tmp_path / "q"
    proc = run("apply", str(out), "--quarantine", str(quarantine), "--yes", cwd=tmp_path)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Done" not in proc.stdout and "dedup undo" not in proc.stdout, proc.stdout
    assert "Nothing changed" in proc.stdout and "changed since the scan" in proc.stdout
    assert not quarantine.exists()


def test_plan_lines_fit_80_columns(tmp_path: Path) -> None:
    deep = tmp_path / ("a-rather-long-folder-name-" * 3) / "and-another-one-below-it"
    deep.mkdir(parents=True)
    for n in range(3):
        shutil.copyfile(SAMPLES / WRAPPED, deep / f"copy-number-{n}-of-the-wrapped-article-with-a-long-name.txt")
    proc = run("scan", str(deep), "-q", "--no-cache", "-o", "s.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for args in ([], ["--quarantine", str(tmp_path / "q"), "--yes"]):
        shown = run("apply", "s.json", *args, cwd=tmp_path, columns=80)
        assert shown.returncode == 0, shown.stderr
        lines = shown.stdout.splitlines()
        assert any("copy-number" in line for line in lines), shown.stdout
        assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
        assert all(line == line.rstrip() for line in lines)
