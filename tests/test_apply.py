"""dedup apply and dedup undo on real folders: the plan changes nothing; quarantine, links
and copies do what they say; undo restores the tree byte for byte (odd names included);
files changed after the scan are left alone; a run killed with SIGKILL is finished by undo;
--write gives the input minus the dropped records, in order."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import OTHERS, PLAIN, SAMPLES, WRAPPED

import dedup
from dedup.cli import main

ENV = {**os.environ, "PYTHONPATH": str(Path(dedup.__file__).resolve().parent.parent)}
ODD = os.fsdecode(b"copy-\xff\xfe.txt")  # not valid UTF-8
BREAK = "line\nbreak.txt"


def tree_state(root: Path) -> dict[bytes, tuple[str, str]]:
    """Every entry below ``root`` by its exact name: its kind and its content's digest."""
    state: dict[bytes, tuple[str, str]] = {}
    base = os.fsencode(root)
    for folder, dirs, files in os.walk(base):
        for name in dirs + files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, base)
            if os.path.islink(path):
                state[rel] = ("link", os.fsdecode(os.readlink(path)))
            elif os.path.isdir(path):
                state[rel] = ("dir", "")
            else:
                with open(path, "rb") as f:
                    state[rel] = ("file", hashlib.sha256(f.read()).hexdigest())
    return state


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The samples, plus exact copies of the plain article under odd names and in a subfolder."""
    root = tmp_path / "scraped"
    shutil.copytree(SAMPLES, root)
    (root / "sub").mkdir()
    text = (SAMPLES / PLAIN).read_bytes()
    for name in ("sub/again.txt", ODD, BREAK):
        with open(os.path.join(os.fsencode(root), os.fsencode(name)), "wb") as f:
            f.write(text)
    return root


def scan_to(root: Path, out: Path, *extra: str) -> dict[str, object]:
    result = CliRunner().invoke(main, ["scan", str(root), "-q", "--no-cache", "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return data


def apply(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["apply", *args])
    return result.exit_code, result.output


def decisions(data: dict[str, object]) -> dict[str, str]:
    rows = data["documents"]
    assert isinstance(rows, list)
    return {row["id"]: row["decision"] for row in rows}


def test_dry_run_changes_nothing_and_shows_the_plan(tree: Path, tmp_path: Path) -> None:
    scan_to(tree, tmp_path / "scan.json")
    before = tree_state(tmp_path)
    code, out = apply(str(tmp_path / "scan.json"))
    assert code == 0, out
    assert tree_state(tmp_path) == before
    assert "Plan: move 4 dropped files" in out
    assert "Nothing changed (a dry run)" in out
    assert f"(kept: {PLAIN})" in out


def test_decision_table_has_every_document(tree: Path, tmp_path: Path) -> None:
    (tree / "empty.txt").write_bytes(b"")
    data = scan_to(tree, tmp_path / "scan.json")
    got = decisions(data)
    assert got[PLAIN] == "kept"
    assert got[WRAPPED] == got["sub/again.txt"] == "dropped"
    assert all(got[o] == "unique" for o in OTHERS)
    assert got["empty.txt"] == "skipped"
    rows = {r["id"]: r for r in data["documents"]}  # type: ignore[attr-defined]
    assert rows[PLAIN]["rule"] == "ranking" and rows[WRAPPED]["rule"] == "contains-cleanest"
    assert rows["empty.txt"]["rule"] == "empty"
    assert rows[PLAIN]["absolute"] == str(tree / PLAIN) and rows[PLAIN]["root"] == str(tree)
    odd = [r for r in rows.values() if r["absolute_escaped"]]
    assert [r["absolute_escaped"] for r in odd] == [str(tree) + "/copy-\\xff\\xfe.txt"]


def test_quarantine_then_undo_restores_the_tree_byte_for_byte(tree: Path, tmp_path: Path) -> None:
    scan_to(tree, tmp_path / "scan.json")
    before = tree_state(tree)
    dupes = tmp_path / "dupes"
    code, out = apply(str(tmp_path / "scan.json"), "--quarantine", str(dupes), "--yes")
    assert code == 0, out
    after = tree_state(tree)
    moved = {os.fsencode(n) for n in (WRAPPED, "sub/again.txt", ODD, BREAK)}
    assert set(before) - set(after) == moved
    for name in moved:  # each is in the quarantine under its relative path, bytes unchanged
        assert tree_state(dupes)[name] == before[name]
    assert after[os.fsencode(PLAIN)] == before[os.fsencode(PLAIN)]
    code, out = CliRunner().invoke(main, ["undo", str(dupes / "dedup-manifest.json")]).exit_code, ""
    assert code == 0
    assert tree_state(tree) == before
    assert set(os.listdir(dupes)) == {"dedup-manifest.json"}  # folders it made are gone


@pytest.mark.parametrize("how", ["--link", "--symlink"])
def test_links_point_at_the_kept_copy_and_undo_restores(tree: Path, tmp_path: Path, how: str) -> None:
    scan_to(tree, tmp_path / "scan.json")
    before = tree_state(tree)
    keep = tmp_path / "originals"
    code, out = apply(str(tmp_path / "scan.json"), how, "--quarantine", str(keep), "--yes")
    assert code == 0, out
    kept = tree / PLAIN
    for name in (WRAPPED, "sub/again.txt", ODD):
        path = os.path.join(os.fsencode(tree), os.fsencode(name))
        if how == "--link":
            assert os.stat(path).st_ino == kept.stat().st_ino and not os.path.islink(path)
        else:
            assert os.readlink(path) == os.fsencode(kept)
    assert (keep / WRAPPED).read_bytes() == (SAMPLES / WRAPPED).read_bytes()  # the original is kept
    result = CliRunner().invoke(main, ["undo", str(keep / "dedup-manifest.json")])
    assert result.exit_code == 0, result.output
    assert tree_state(tree) == before
    assert kept.stat().st_nlink == 1


def test_copy_kept_copies_unique_and_kept_files_only(tree: Path, tmp_path: Path) -> None:
    scan_to(tree, tmp_path / "scan.json")
    before = tree_state(tree)
    clean = tmp_path / "clean"
    code, out = apply(str(tmp_path / "scan.json"), "--copy-kept", str(clean), "--yes")
    assert code == 0, out
    assert tree_state(tree) == before
    assert sorted(os.listdir(clean)) == sorted([PLAIN, *OTHERS])
    for name in os.listdir(clean):
        assert (clean / name).read_bytes() == (tree / name).read_bytes()
    manifest = tmp_path / "clean.dedup-manifest.json"
    assert CliRunner().invoke(main, ["undo", str(manifest)]).exit_code == 0
    assert os.listdir(clean) == []


def test_a_file_edited_after_the_scan_is_left_alone(tree: Path, tmp_path: Path) -> None:
    scan_to(tree, tmp_path / "scan.json")
    edited = tree / "sub" / "again.txt"
    edited.write_bytes(edited.read_bytes().replace(b"the", b"teh", 1))
    code, out = apply(str(tmp_path / "scan.json"), "--quarantine", str(tmp_path / "q"), "--yes")
    assert code == 0, out
    assert edited.exists() and not (tmp_path / "q" / "sub" / "again.txt").exists()
    assert f"changed since the scan (its text differs): {edited}" in out
    assert not (tree / WRAPPED).exists()  # the others went ahead


def test_nothing_moves_when_the_kept_copy_changed(tree: Path, tmp_path: Path) -> None:
    scan_to(tree, tmp_path / "scan.json")
    (tree / PLAIN).write_text("something else entirely", encoding="utf-8")
    before = tree_state(tree)
    code, out = apply(str(tmp_path / "scan.json"), "--quarantine", str(tmp_path / "q"), "--yes")
    assert code == 1, out  # nothing could be done: no folder, no manifest, no "Done"
    assert tree_state(tree) == before
    assert "its kept copy changed since the scan" in out
    assert not (tmp_path / "q").exists() and "Done" not in out


def test_undo_refuses_where_something_changed_since(tree: Path, tmp_path: Path) -> None:
    scan_to(tree, tmp_path / "scan.json")
    q = tmp_path / "q"
    assert apply(str(tmp_path / "scan.json"), "--quarantine", str(q), "--yes")[0] == 0
    (tree / WRAPPED).write_text("a new file in its place", encoding="utf-8")
    result = CliRunner().invoke(main, ["undo", str(q / "dedup-manifest.json")])
    assert result.exit_code == 1
    assert f"something else is at {tree / WRAPPED} now" in result.output
    assert (tree / WRAPPED).read_text(encoding="utf-8") == "a new file in its place"
    assert (q / WRAPPED).read_bytes() == (SAMPLES / WRAPPED).read_bytes()  # still safe
    assert (tree / "sub" / "again.txt").exists()  # the rest was put back


def test_delete_needs_yes_and_supersets_and_records_are_left(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    shutil.copy(SAMPLES / PLAIN, root / "a.txt")
    shutil.copy(SAMPLES / PLAIN, root / "b.txt")
    text = (SAMPLES / PLAIN).read_text(encoding="utf-8")
    own = (SAMPLES / OTHERS[0]).read_text(encoding="utf-8")  # prose found nowhere else in the folder
    (root / "c.txt").write_text(text + "\n\n" + own, encoding="utf-8")
    lines = [json.dumps({"id": f"r{i}", "text": text}) for i in range(2)]
    (root / "recs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = scan_to(root, tmp_path / "scan.json", "--prefer", "a.txt")  # the kept copy, whatever the ranking
    assert decisions(data)["c.txt"] == "superset"
    manifest = str(tmp_path / "m.json")
    code, out = apply(str(tmp_path / "scan.json"), "--delete", "--manifest", manifest)
    assert code == 2 and "--delete needs --yes" in out
    code, out = apply(str(tmp_path / "scan.json"), "--delete", "--yes", "--manifest", manifest)
    assert code == 0, out
    names = sorted(os.listdir(root))
    assert names == ["a.txt", "c.txt", "recs.jsonl"]
    assert "2 a record: records are never acted on as files (see --write)" in out
    assert "1 a superset: it has text of its own (act on it with --supersets)" in out
    result = CliRunner().invoke(main, ["undo", manifest])
    assert result.exit_code == 1 and "was deleted (--delete): dedup cannot restore it" in result.output
    code, out = apply(str(tmp_path / "scan.json"), "--quarantine", str(tmp_path / "q"), "--supersets", "--yes")
    assert "changed since" not in out and (tmp_path / "q" / "c.txt").exists()


def test_write_jsonl_is_the_input_minus_the_dropped_records(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(SAMPLES.iterdir())}
    order = [PLAIN, OTHERS[0], WRAPPED, PLAIN, OTHERS[1], PLAIN, OTHERS[2]]
    lines = [json.dumps({"id": f"r{i}", "text": texts[n]}, ensure_ascii=False) for i, n in enumerate(order)]
    lines.insert(3, '{"id": "bad", "text": ')  # an unreadable line: not a record of the scan, kept
    src = root / "recs.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = scan_to(root, tmp_path / "scan.json")
    dropped = {r["record_id"] for r in data["documents"] if r["decision"] == "dropped"}  # type: ignore[attr-defined]
    assert dropped == {"r2", "r3", "r5"}
    out = tmp_path / "clean.jsonl"
    code, said = apply(str(tmp_path / "scan.json"), "--write", str(out))
    assert code == 0, said
    expected = [line for line in lines if not any(f'"id": "{r}"' in line for r in dropped)]
    assert out.read_text(encoding="utf-8") == "\n".join(expected) + "\n"
    assert src.read_text(encoding="utf-8") == "\n".join(lines) + "\n"
    code, said = apply(str(tmp_path / "scan.json"), "--write", str(tmp_path / "tagged.jsonl"), "--annotate")
    assert code == 0, said
    tagged = [
        json.loads(x) for x in (tmp_path / "tagged.jsonl").read_text(encoding="utf-8").splitlines() if "_dedup" in x
    ]
    assert [t["_dedup"]["decision"] for t in tagged] == ["kept", "unique", "unique", "unique"]


KILLER = r"""
import os, signal, sys
from pathlib import Path
from dedup.apply import build_plan, load_rows, run_plan
rows, config = load_rows(Path(sys.argv[1]))
plan = build_plan(rows, sys.argv[3], folder=sys.argv[2])
at = int(sys.argv[4])
if sys.argv[5] == "mid-link":  # die between moving the original away and linking
    real = os.link
    def link(*a, **k):
        os.kill(os.getpid(), signal.SIGKILL)
    os.link = link
def step(n):
    if n == at and sys.argv[5] == "before":
        os.kill(os.getpid(), signal.SIGKILL)
run_plan(plan, config, Path(sys.argv[2]) / "dedup-manifest.json", scan=sys.argv[1], version="x", on_step=step)
"""


@pytest.mark.parametrize(("action", "at", "where"), [("quarantine", 2, "before"), ("link", 0, "mid-link")])
def test_a_run_killed_halfway_is_finished_by_undo(tree: Path, tmp_path: Path, action: str, at: int, where: str) -> None:
    scan_to(tree, tmp_path / "scan.json")
    before = tree_state(tree)
    q = tmp_path / "q"
    q.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, str(tmp_path / "scan.json"), str(q), action, str(at), where],
        env=ENV, capture_output=True, check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert tree_state(tree) != before  # it had started
    result = CliRunner().invoke(main, ["undo", str(q / "dedup-manifest.json")])
    assert result.exit_code == 0, result.output
    assert tree_state(tree) == before


def test_absolute_lists(tree: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["scan", str(tree), "-q", "--no-cache", "--drop-list", str(tmp_path / "d"), "--absolute", "-0"]
    )
    assert result.exit_code == 0, result.output
    names = (tmp_path / "d").read_bytes().split(b"\0")[:-1]
    assert sorted(names) == sorted(os.fsencode(tree / n) for n in (WRAPPED, "sub/again.txt", ODD, BREAK))


def test_write_parquet_is_the_input_minus_the_dropped_rows(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow", reason="Parquet needs pyarrow: pip install 'dedup[parquet]'")
    pq = pytest.importorskip("pyarrow.parquet")
    root = tmp_path / "in"
    root.mkdir()
    texts = [(SAMPLES / n).read_text(encoding="utf-8") for n in (PLAIN, OTHERS[0], PLAIN, OTHERS[1], WRAPPED)]
    table = pa.table({"id": [f"r{i}" for i in range(5)], "text": texts, "n": list(range(5))})
    pq.write_table(table, root / "rows.parquet")
    data = scan_to(root, tmp_path / "scan.json")
    dropped = sorted(r["record"] for r in data["documents"] if r["decision"] == "dropped")  # type: ignore[attr-defined]
    assert dropped == [3, 5]
    code, said = apply(str(tmp_path / "scan.json"), "--write", str(tmp_path / "clean.parquet"))
    assert code == 0, said
    got = pq.read_table(tmp_path / "clean.parquet")
    assert got.schema == table.schema
    assert got.to_pylist() == [r for i, r in enumerate(table.to_pylist()) if i + 1 not in dropped]
    code, said = apply(str(tmp_path / "scan.json"), "--write", str(tmp_path / "clean.jsonl"))
    assert code == 0, said
    lines = (tmp_path / "clean.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["n"] for x in lines] == [0, 1, 3]


def test_refusals_before_any_change(tree: Path, tmp_path: Path) -> None:
    scan_to(tree, tmp_path / "scan.json")
    before = tree_state(tmp_path)
    code, out = apply(str(tmp_path / "scan.json"), "--quarantine", str(tree / "dupes"), "--yes")
    assert code == 2 and "is inside a scanned folder" in out
    code, out = apply(str(tmp_path / "scan.json"), "--quarantine", str(tmp_path / "q"))
    assert code == 2 and "not a terminal to ask: add --yes to act" in out
    code, out = apply(str(tmp_path / "scan.json"), "--link", "--delete", "--yes")
    assert code == 2 and "choose one of" in out
    code, out = apply(str(tmp_path / "scan.json"), "--write", str(tree / PLAIN))
    assert code == 2 and "is one of the scanned files" in out
    old = json.loads((tmp_path / "scan.json").read_text(encoding="utf-8"))
    del old["documents"]
    (tmp_path / "old.json").write_text(json.dumps(old), encoding="utf-8")
    code, out = apply(str(tmp_path / "old.json"))
    assert code == 2 and "holds no decision table: scan again" in out
    (tmp_path / "old.json").unlink()
    assert tree_state(tmp_path) == before


def test_moves_across_file_systems_copy_then_unlink(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where rename cannot cross devices (EXDEV), the file is copied, synced and renamed in,
    then the original removed; undo does the same back, byte for byte, times kept."""
    import errno

    scan_to(tree, tmp_path / "scan.json")
    before = tree_state(tree)
    mtime = (tree / WRAPPED).stat().st_mtime_ns
    from dedup import noreplace

    real = noreplace.renameat2
    assert real is not None

    refused: list[str] = []

    def rename(src: str, dst: str) -> None:
        if ".dedup-tmp" not in src:
            refused.append(src)
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real(src, dst)

    monkeypatch.setattr(noreplace, "renameat2", rename)  # the moves' rename, which never replaces
    code, out = apply(str(tmp_path / "scan.json"), "--quarantine", str(tmp_path / "q"), "--yes")
    assert code == 0, out
    assert str(tree / WRAPPED) in refused  # the moves went by copy
    assert not (tree / WRAPPED).exists() and (tmp_path / "q" / WRAPPED).stat().st_mtime_ns == mtime
    assert CliRunner().invoke(main, ["undo", str(tmp_path / "q" / "dedup-manifest.json")]).exit_code == 0
    assert tree_state(tree) == before and (tree / WRAPPED).stat().st_mtime_ns == mtime


@pytest.mark.parametrize(("answer", "moved"), [(b"n\n", False), (b"y\n", True)])
def test_on_a_terminal_it_asks_once(tree: Path, tmp_path: Path, answer: bytes, moved: bool) -> None:
    import pty

    scan_to(tree, tmp_path / "scan.json")
    controller, terminal = pty.openpty()
    try:
        os.write(controller, answer)
        proc = subprocess.run(
            [sys.executable, "-m", "dedup", "apply", str(tmp_path / "scan.json"), "--quarantine", str(tmp_path / "q")],
            stdin=terminal, capture_output=True, env=ENV, check=False, timeout=120,
        )  # fmt: skip
    finally:
        os.close(terminal)
        os.close(controller)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(b"Go ahead?") == 1
    assert (tmp_path / "q" / WRAPPED).exists() is moved
    assert (tree / WRAPPED).exists() is not moved


def test_a_file_whose_kept_copy_is_a_record(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    shutil.copy(SAMPLES / PLAIN, root / "a.txt")
    text = (SAMPLES / PLAIN).read_text(encoding="utf-8")
    (root / "recs.jsonl").write_text(json.dumps({"id": "r0", "text": text}) + "\n", encoding="utf-8")
    data = scan_to(root, tmp_path / "scan.json", "--prefer", "recs.jsonl")
    assert decisions(data) == {"recs.jsonl:r0": "kept", "a.txt": "dropped"}
    code, out = apply(str(tmp_path / "scan.json"), "--link", "--quarantine", str(tmp_path / "l"), "--yes")
    assert code == 0 and "1 its kept copy is a record: a file cannot be linked to it" in out
    assert (root / "a.txt").exists()
    code, out = apply(str(tmp_path / "scan.json"), "--quarantine", str(tmp_path / "q"), "--yes")
    assert code == 0, out
    assert (tmp_path / "q" / "a.txt").read_bytes() == (SAMPLES / PLAIN).read_bytes()
