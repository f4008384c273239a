"""Defects of the 23:00 new-user trial (B3): acting on a scan with `dedup apply`.

Each test failed before its fix: a file whose name is near the file system's 255-byte limit
could not be linked, moved to another file system or copied (the temporary name built from it
was too long); a quarantine folder on a read-only file system was a traceback and exit 1.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PLAIN, SAMPLES, WRAPPED

from dedup import noreplace
from dedup.cli import main

LONG = "L" * 250 + ".txt"  # 254 bytes: a name the file system takes, with no room to spare


def _state(root: Path) -> dict[str, tuple[str, str]]:
    """Every entry below ``root``: its kind and its content's digest (or link target)."""
    out: dict[str, tuple[str, str]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                out[rel] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                out[rel] = ("dir", "")
            else:
                out[rel] = ("file", hashlib.sha256(Path(path).read_bytes()).hexdigest())
    return out


@pytest.fixture
def scanned(tmp_path: Path) -> tuple[Path, Path]:
    """The samples plus a copy of the plain article under a 254-byte name, scanned to JSON."""
    root = tmp_path / "scraped"
    shutil.copytree(SAMPLES, root)
    (root / "sub").mkdir()
    shutil.copyfile(SAMPLES / PLAIN, root / "sub" / LONG)
    export = tmp_path / "scan.json"
    result = CliRunner().invoke(main, ["scan", str(root), "-q", "--no-cache", "-o", str(export)])
    assert result.exit_code == 0, result.output
    rows = json.loads(export.read_text(encoding="utf-8"))["documents"]
    assert {r["id"]: r["decision"] for r in rows}[f"sub/{LONG}"] == "dropped"
    return root, export


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("how", ["--link", "--symlink"])
def test_a_file_with_a_name_at_the_length_limit_is_linked_and_restored(
    scanned: tuple[Path, Path], tmp_path: Path, how: str
) -> None:
    root, export = scanned
    before = _state(root)
    code, out = _invoke("apply", str(export), how, "--quarantine", str(tmp_path / "orig"), "--yes")
    assert code == 0, out
    assert "Not acted on" not in out and "File name too long" not in out
    long = root / "sub" / LONG
    if how == "--link":
        assert long.stat().st_ino == (root / PLAIN).stat().st_ino and not long.is_symlink()
    else:
        assert os.readlink(long) == str(root / PLAIN)
    assert (tmp_path / "orig" / "sub" / LONG).read_bytes() == (SAMPLES / PLAIN).read_bytes()
    code, out = _invoke("undo", str(tmp_path / "orig" / "dedup-manifest.json"))
    assert code == 0, out
    assert _state(root) == before


def test_a_file_with_a_name_at_the_length_limit_is_copied(scanned: tuple[Path, Path], tmp_path: Path) -> None:
    """--copy-kept copies through a temporary file beside the target: its name must fit too
    (the kept copy here is the long-named one's twin, so a long unique file is added)."""
    root, export = scanned
    unique = root / ("U" * 250 + ".txt")
    shutil.copyfile(SAMPLES / "003_43b52356814ea5f4.txt", unique)
    os.unlink(root / "003_43b52356814ea5f4.txt")
    code, out = _invoke("scan", str(root), "-q", "--no-cache", "-o", str(export))
    assert code == 0, out
    code, out = _invoke("apply", str(export), "--copy-kept", str(tmp_path / "clean"), "--yes")
    assert code == 0, out
    assert "File name too long" not in out
    assert (tmp_path / "clean" / unique.name).read_bytes() == unique.read_bytes()


def test_a_quarantine_on_a_read_only_file_system_is_one_error_line(scanned: tuple[Path, Path], tmp_path: Path) -> None:
    """/proc is read-only for everyone, root included (chmod does not stop root)."""
    root, export = scanned
    before = _state(root)
    code, out = _invoke("apply", str(export), "--quarantine", "/proc/dedup-quarantine", "--yes")
    assert code == 2, out
    assert "Traceback" not in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("Error: cannot write /proc/dedup-quarantine")
    assert _state(root) == before


def test_a_manifest_that_cannot_be_written_leaves_no_folder(scanned: tuple[Path, Path], tmp_path: Path) -> None:
    root, export = scanned
    before = _state(root)
    code, out = _invoke(
        "apply", str(export), "--quarantine", str(tmp_path / "q"), "--manifest", "/proc/m.json", "--yes"
    )
    assert code == 2, out
    assert out.strip().splitlines()[-1].startswith("Error: cannot write /proc/m.json")
    assert not (tmp_path / "q").exists()
    assert _state(root) == before


@pytest.mark.parametrize("option", ["--output", "--drop-list"])
def test_an_output_named_at_the_length_limit_is_written(tmp_path: Path, option: str) -> None:
    """Exports are written through a temporary file beside them, whose name must fit too."""
    out = tmp_path / ("R" * 250 + (".json" if option == "--output" else ""))
    code, text = _invoke("scan", str(SAMPLES), "-q", "--no-cache", option, str(out))
    assert code == 0, text
    assert out.stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_a_move_to_another_file_system_that_cannot_remove_the_original_leaves_no_copy(
    scanned: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Across file systems a move is a copy, then unlinking the original. Where the original
    cannot be removed (a read-only or immutable source), the copy made in the quarantine was
    left there, recorded as skipped, so undo never removed it: every such file doubled."""
    import errno

    root, export = scanned
    before = _state(root)
    real_rename, real_unlink = os.rename, os.unlink

    def rename(src: object, dst: object) -> None:
        if ".dedup-tmp" not in os.fsdecode(src):  # type: ignore[arg-type]
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_rename(src, dst)  # type: ignore[arg-type]

    def unlink(path: object, *args: object, **kwargs: object) -> None:
        if os.fsdecode(path).startswith(str(root)):  # type: ignore[arg-type]
            raise OSError(errno.EROFS, "Read-only file system")
        real_unlink(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(noreplace, "renameat2", rename)  # moves rename with it
    monkeypatch.setattr(os, "unlink", unlink)
    code, out = _invoke("apply", str(export), "--quarantine", str(tmp_path / "q"), "--yes")
    assert code == 1, out  # no change made
    assert "Read-only file system" in out and "dedup undo" not in out
    monkeypatch.undo()
    assert _state(root) == before
    left = sorted(p.name for p in (tmp_path / "q").rglob("*") if p.is_file())
    assert left == ["dedup-manifest.json"]


def test_a_file_left_alone_for_its_kept_copy_is_named(tmp_path: Path) -> None:
    """A kept copy that is a symbolic link (the scan reads through it) cannot stand for the
    file dropped for it; the reason named only the link, not which file was left, and said
    it was "no longer" a regular file when it never was one."""
    outside = tmp_path / "outside.txt"
    shutil.copyfile(SAMPLES / PLAIN, outside)
    root = tmp_path / "scraped"
    root.mkdir()
    shutil.copyfile(SAMPLES / PLAIN, root / "0_link.txt")
    shutil.copyfile(SAMPLES / PLAIN, root / "a_copy.txt")
    export = tmp_path / "scan.json"
    code, out = _invoke("scan", str(root), "-q", "--no-cache", "-o", str(export))
    assert code == 0, out
    decided = {r["id"]: r["decision"] for r in json.loads(export.read_text(encoding="utf-8"))["documents"]}
    assert decided == {"0_link.txt": "kept", "a_copy.txt": "dropped"}
    # A link is never kept over a regular file (prefer.LINK_RULE): it became one after the scan.
    (root / "0_link.txt").unlink()
    (root / "0_link.txt").symlink_to(outside)
    code, out = _invoke("apply", str(export), "--quarantine", str(tmp_path / "q"), "--yes")
    assert code == 1, out
    assert (
        f"  {root / 'a_copy.txt'}: its kept copy is a symbolic link, not a regular file: {root / '0_link.txt'}\n" in out
    )
    assert (root / "a_copy.txt").read_bytes() == outside.read_bytes()


def test_a_file_that_takes_a_dropped_files_place_during_link_is_kept(
    scanned: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--link moves the dropped file away, then links its kept copy in its place. A file
    another program wrote there in between was replaced (the link was renamed over the
    name); now it stays, and undo, which must not overwrite it, says where the original is."""
    root, export = scanned
    target = root / WRAPPED
    intruder = b"written by another program in between\n"
    real_link = os.link

    def link(src: object, dst: object, *args: object, **kwargs: object) -> None:
        if WRAPPED in os.path.basename(os.fsdecode(dst)):  # type: ignore[arg-type]
            with open(target, "xb") as f:
                f.write(intruder)
        real_link(src, dst, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "link", link)
    code, out = _invoke("apply", str(export), "--link", "--quarantine", str(tmp_path / "orig"), "--yes")
    monkeypatch.undo()
    assert code == 0, out
    assert target.read_bytes() == intruder
    original = tmp_path / "orig" / WRAPPED
    assert original.read_bytes() == (SAMPLES / WRAPPED).read_bytes()
    assert f"the original is at {original}" in out
    code, out = _invoke("undo", str(tmp_path / "orig" / "dedup-manifest.json"))
    assert code == 1, out
    assert f"something else is at {target} now: left as it is (the original is at {original})" in out
    assert target.read_bytes() == intruder and original.read_bytes() == (SAMPLES / WRAPPED).read_bytes()


def test_undo_of_a_run_that_changed_nothing_says_so(
    scanned: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose every change failed safely (here: the originals cannot be moved, as on a
    read-only source) exited 0, and said, when undone, that every step 'was undone before'."""
    import errno

    _, export = scanned

    def rename(src: object, dst: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(noreplace, "renameat2", rename)  # moves rename with it
    code, out = _invoke("apply", str(export), "--quarantine", str(tmp_path / "q"), "--yes")
    monkeypatch.undo()
    assert code == 1 and "Done: moved 0 files" in out, out  # nothing done is not success
    code, out = _invoke("undo", str(tmp_path / "q" / "dedup-manifest.json"))
    assert (code, out) == (
        0,
        f"Nothing to undo: the run of {tmp_path / 'q' / 'dedup-manifest.json'} changed no file (2 files left alone).\n",
    )


def test_a_full_disk_during_apply_says_what_was_done_and_undo_still_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest is rewritten as a run goes. When the disk filled up, apply stopped with a
    bare 'cannot write' (no word of the files already moved), and undo, which rewrites the
    manifest too, stopped at its first step: nothing could be put back until space was freed
    by hand. Seen on a 1.6 MB tmpfs quarantine with 1,800 files; here every write of the
    manifest after its first fails with ENOSPC at the rename."""
    import errno

    root = tmp_path / "scraped"
    root.mkdir()
    text = (SAMPLES / PLAIN).read_bytes()
    for n in range(6):
        (root / f"copy{n}.txt").write_bytes(text)
    export = tmp_path / "scan.json"
    code, out = _invoke("scan", str(root), "-q", "--no-cache", "-o", str(export))
    assert code == 0, out
    before = _state(root)
    real_replace, writes, full = os.replace, [], [True]

    def replace(src: object, dst: object, *args: object, **kwargs: object) -> None:
        if os.fsdecode(dst).endswith("dedup-manifest.json"):  # type: ignore[arg-type]
            writes.append(dst)
            if full[0] and len(writes) > 1:
                raise OSError(errno.ENOSPC, "No space left on device")
        real_replace(src, dst, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)
    manifest = tmp_path / "q" / "dedup-manifest.json"
    result = CliRunner().invoke(main, ["apply", str(export), "--quarantine", str(tmp_path / "q"), "--yes"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: cannot write {manifest}: No space left on device; the run stopped with 5 of 5 changes "
        f"made: dedup undo {manifest} puts them back"
    )
    assert len(list((tmp_path / "q").glob("copy*.txt"))) == 5
    result = CliRunner().invoke(main, ["undo", str(manifest)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Restored 5 files")
    assert "warning: cannot write" in result.stderr and "running it again is safe" in result.stderr
    assert _state(root) == before
    full[0] = False
    result = CliRunner().invoke(main, ["undo", str(manifest)])
    assert result.exit_code == 0 and result.stdout.startswith("Restored 0 files"), result.output
    assert _state(root) == before


@pytest.mark.parametrize("added", ["appended", "in a blank line"])
def test_write_leaves_out_a_file_that_gained_records_since_the_scan(tmp_path: Path, added: str) -> None:
    """--write checked that every scanned record was still there with its text, not that no
    record had come: a record added since the scan (here a copy of a dropped one) went into
    the deduplicated dataset without ever being compared."""
    text = (SAMPLES / PLAIN).read_text(encoding="utf-8")
    other = (SAMPLES / "003_43b52356814ea5f4.txt").read_text(encoding="utf-8")
    lines = [json.dumps({"id": "a", "text": text}), "", json.dumps({"id": "b", "text": other})]
    lines.append(json.dumps({"id": "c", "text": text}))
    data = tmp_path / "data.jsonl"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    export = tmp_path / "scan.json"
    code, out = _invoke("scan", str(data), "-q", "--no-cache", "-o", str(export))
    assert code == 0, out
    late = json.dumps({"id": "d", "text": text})
    if added == "appended":
        lines.append(late)
    else:
        lines[1] = late
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out = _invoke("apply", str(export), "--write", str(tmp_path / "clean.jsonl"))
    assert code == 0, out
    number = 5 if added == "appended" else 2
    assert f"left out {data}: record {number} is new since the scan" in out
    assert (tmp_path / "clean.jsonl").read_text(encoding="utf-8") == ""


def test_a_quarantine_reached_through_a_link_into_the_scanned_folder_is_refused(
    scanned: tuple[Path, Path], tmp_path: Path
) -> None:
    """A quarantine inside a scanned folder is refused (the next scan would read the moved
    files again); the check compared paths as written, so a link that leads inside passed."""
    root, export = scanned
    before = _state(root)
    (tmp_path / "shortcut").symlink_to(root)
    code, out = _invoke("apply", str(export), "--quarantine", str(tmp_path / "shortcut" / "q"), "--yes")
    assert code == 2, out
    assert "is inside a scanned folder" in out
    assert _state(root) == before


def test_files_given_by_absolute_name_can_be_quarantined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files named on the command line by an absolute path below the working directory have
    ids relative to it, which matched no root as given: their rows' root was "", which apply
    took for a folder holding every path, so every quarantine was 'inside a scanned folder'."""
    monkeypatch.chdir(tmp_path)
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    shutil.copyfile(SAMPLES / PLAIN, a)
    shutil.copyfile(SAMPLES / PLAIN, b)
    export = tmp_path / "scan.json"
    code, out = _invoke("scan", str(a), str(b), "-q", "--no-cache", "-o", str(export))
    assert code == 0, out
    rows = json.loads(export.read_text(encoding="utf-8"))["documents"]
    assert sorted((r["root"], r["absolute"]) for r in rows) == [(str(a), str(a)), (str(b), str(b))]
    code, out = _invoke("apply", str(export), "--quarantine", str(tmp_path / "q"), "--yes")
    assert code == 0, out
    assert (tmp_path / "q" / "b.txt").read_bytes() == (SAMPLES / PLAIN).read_bytes() and not b.exists()


def test_an_apply_run_stopped_midway_says_how_to_undo_it(
    scanned: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during apply printed only 'Error: stopped by SIGINT': nothing said that files
    had moved or where the manifest that puts them back is (with --link, a dated folder).
    The signal is raised where the program's handler raises it, in the middle of a move."""
    import signal

    from dedup.errors import Interrupted

    root, export = scanned
    before = _state(root)
    real_rename, calls = os.rename, []

    def rename(src: object, dst: object) -> None:
        calls.append(src)
        if len(calls) == 2:
            raise Interrupted(signal.SIGINT)
        real_rename(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(noreplace, "renameat2", rename)  # moves rename with it
    result = CliRunner().invoke(main, ["apply", str(export), "--quarantine", str(tmp_path / "q"), "--yes"])
    monkeypatch.undo()
    manifest = tmp_path / "q" / "dedup-manifest.json"
    assert result.exit_code == 130, result.output
    assert result.stdout.endswith(f"Stopped midway: dedup undo {manifest} puts back what was done\n")
    assert result.stderr == "Error: stopped by SIGINT\n"
    code, out = _invoke("undo", str(manifest))
    assert code == 0 and out.startswith("Restored 1 file"), out
    assert _state(root) == before


def test_undo_removes_the_partial_copy_of_a_run_killed_while_copying(
    scanned: tuple[Path, Path], tmp_path: Path
) -> None:
    """A move to another file system copies to '.NAME.PID.dedup-tmp' and renames it in; a run
    killed (SIGKILL) in the copy left that partial file, which undo never removed (seen with a
    130 MB file quarantined to /dev/shm). Here the run's manifest is real and the partial
    copies are laid down as a killed run leaves them: one of a process that is gone, which
    undo removes, and one of a live process (this one), which it leaves alone."""
    import subprocess
    import sys

    root, export = scanned
    code, out = _invoke("apply", str(export), "--quarantine", str(tmp_path / "q"), "--yes")
    assert code == 0, out
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    dead = tmp_path / "q" / f".{WRAPPED}.{dead_pid}.dedup-tmp"
    dead.write_bytes(b"half a copy")
    back = root / f".{WRAPPED}.{dead_pid}.dedup-tmp"  # a killed undo copies back beside the original
    back.write_bytes(b"half a copy")
    alive = tmp_path / "q" / f".{WRAPPED}.{os.getpid()}.dedup-tmp"
    alive.write_bytes(b"still being written")
    code, out = _invoke("undo", str(tmp_path / "q" / "dedup-manifest.json"))
    assert code == 0, out
    assert not dead.exists() and not back.exists() and alive.exists()
    assert (root / WRAPPED).read_bytes() == (SAMPLES / WRAPPED).read_bytes()
