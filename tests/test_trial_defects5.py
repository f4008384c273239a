"""Defects of the 02:40 new-user trial (B4): data safety left from the last trial, then what
a new user met. Each test failed before its fix."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PLAIN, SAMPLES

import dedup
from dedup.cli import main
from dedup.manifest import copy_file
from dedup.noreplace import link_then_unlink, rename_noreplace


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _decisions(export: Path) -> dict[str, tuple[str, str]]:
    rows = json.loads(export.read_text(encoding="utf-8"))["documents"]
    return {r["id"]: (r["decision"], r["rule"]) for r in rows}


# 1. A symbolic link could be the kept copy over a regular file: the regular copy was then
#    in the drop list, and `dedup apply` refused the whole cluster (its kept copy a link).


def test_a_symbolic_link_is_never_kept_over_a_regular_file(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    shutil.copyfile(SAMPLES / PLAIN, outside)
    root = tmp_path / "scraped"
    root.mkdir()
    (root / "0_link.txt").symlink_to(outside)  # first in sort order, and the same text
    shutil.copyfile(SAMPLES / PLAIN, root / "a_copy.txt")
    export = tmp_path / "scan.json"
    code, out = _invoke("scan", str(root), "-q", "--no-cache", "-o", str(export), "--drop-list", str(tmp_path / "d"))
    assert code == 0, out
    assert _decisions(export) == {
        "0_link.txt": ("dropped", "jaccard"),
        "a_copy.txt": ("kept", "prefer:regular-file"),
    }
    assert (tmp_path / "d").read_text(encoding="utf-8") == "0_link.txt\n"
    members = json.loads(export.read_text(encoding="utf-8"))["clusters"][0]["members"]
    assert "the ranking's cleanest, 0_link.txt, is a symbolic link" in members[0]["reasons"][0]
    # apply leaves the link alone (it acts on regular files only) and the regular copy stays
    code, out = _invoke("apply", str(export), "--quarantine", str(tmp_path / "q"), "--yes")
    assert code == 1, out
    assert f"is a symbolic link, not a regular file: {root / '0_link.txt'}" in out
    assert (root / "a_copy.txt").read_bytes() == outside.read_bytes()
    assert (root / "0_link.txt").is_symlink()


def test_a_user_rule_chooses_among_the_regular_files_and_links_alone_are_ranked(tmp_path: Path) -> None:
    root = tmp_path / "scraped"
    (root / "site-a").mkdir(parents=True)
    shutil.copyfile(SAMPLES / PLAIN, tmp_path / "outside.txt")
    (root / "site-a" / "link.txt").symlink_to(tmp_path / "outside.txt")
    shutil.copyfile(SAMPLES / PLAIN, root / "b.txt")
    shutil.copyfile(SAMPLES / PLAIN, root / "c.txt")
    export = tmp_path / "scan.json"
    code, out = _invoke("scan", str(root), "-q", "--no-cache", "-o", str(export), "--prefer", "site-a/", "--prefer", "c.txt")
    assert code == 0, out
    decided = _decisions(export)
    assert decided["c.txt"] == ("kept", "prefer:c.txt")  # site-a/ holds only a link: passed over
    assert decided["site-a/link.txt"][0] == decided["b.txt"][0] == "dropped"
    # only links: the ranking decides among them, as before
    for name in ("b.txt", "c.txt"):
        shutil.copyfile(SAMPLES / PLAIN, tmp_path / f"outside-{name}")
        (root / name).unlink()
        (root / name).symlink_to(tmp_path / f"outside-{name}")
    code, out = _invoke("scan", str(root), "-q", "--no-cache", "-o", str(export))
    assert code == 0, out
    assert sorted(_decisions(export).values()) == [("dropped", "jaccard")] * 2 + [("kept", "ranking")]


def test_a_stored_result_that_keeps_a_file_now_a_link_is_not_served(tmp_path: Path) -> None:
    """A file swapped for a link to the same bytes keeps the whole-result cache's content key:
    the stored result, which kept it, was served again with the link kept."""
    root = tmp_path / "scraped"
    root.mkdir()
    shutil.copyfile(SAMPLES / PLAIN, root / "0_first.txt")
    shutil.copyfile(SAMPLES / PLAIN, root / "a_copy.txt")
    export, cache = tmp_path / "scan.json", tmp_path / "cache"
    args = ("scan", str(root), "-q", "--cache-dir", str(cache), "-o", str(export))
    code, out = _invoke(*args)
    assert code == 0, out
    assert _decisions(export)["0_first.txt"] == ("kept", "ranking")
    shutil.copyfile(SAMPLES / PLAIN, tmp_path / "outside.txt")
    (root / "0_first.txt").unlink()
    (root / "0_first.txt").symlink_to(tmp_path / "outside.txt")
    code, out = _invoke(*args)
    assert code == 0, out
    assert _decisions(export) == {
        "0_first.txt": ("dropped", "jaccard"),
        "a_copy.txt": ("kept", "prefer:regular-file"),
    }


# 2. apply's move checked that the target was free, then renamed: a file another program
#    wrote at the target in between was replaced (lost).


def test_a_file_written_at_the_quarantine_target_during_the_move_is_not_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "scraped"
    (root / "sub").mkdir(parents=True)
    shutil.copyfile(SAMPLES / PLAIN, root / "a.txt")
    shutil.copyfile(SAMPLES / PLAIN, root / "sub" / "b.txt")
    export = tmp_path / "scan.json"
    code, out = _invoke("scan", str(root), "-q", "--no-cache", "-o", str(export))
    assert code == 0, out
    assert _decisions(export)["sub/b.txt"][0] == "dropped"
    quarantine = tmp_path / "q"
    target = quarantine / "sub" / "b.txt"
    intruder = b"written by another program while the move ran\n"
    real_mkdir = os.mkdir

    def mkdir(path: object, *args: object, **kwargs: object) -> None:
        real_mkdir(path, *args, **kwargs)  # type: ignore[arg-type]
        if os.fsdecode(path) == str(target.parent):  # type: ignore[arg-type]
            # after the move looked at the target, before it renamed: another program writes there
            with open(target, "xb") as f:
                f.write(intruder)

    monkeypatch.setattr(os, "mkdir", mkdir)
    code, out = _invoke("apply", str(export), "--quarantine", str(quarantine), "--yes")
    monkeypatch.undo()
    assert code == 1, out  # its one change was refused
    assert f"something is already at {target}" in out
    assert target.read_bytes() == intruder
    assert (root / "sub" / "b.txt").read_bytes() == (SAMPLES / PLAIN).read_bytes()


def test_the_moves_and_copies_never_replace_a_file(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    for move in (rename_noreplace, link_then_unlink):
        src.write_bytes(b"moved")
        dst.write_bytes(b"was there")
        with pytest.raises(FileExistsError):
            move(str(src), str(dst))
        assert (src.read_bytes(), dst.read_bytes()) == (b"moved", b"was there")
        dst.unlink()
        move(str(src), str(dst))
        assert not src.exists() and dst.read_bytes() == b"moved"
        dst.unlink()
    src.write_bytes(b"copied")
    dst.write_bytes(b"was there")
    with pytest.raises(FileExistsError, match="something is already at"):
        copy_file(str(src), str(dst))
    assert dst.read_bytes() == b"was there" and sorted(p.name for p in tmp_path.iterdir()) == ["dst", "src"]


# 3. apply read each file twice: the check extracted its text, then the manifest's digest (or,
#    for --write, the records written) came from a second read, which could see other bytes.


class _Opens:
    """How many times files are opened, as the kernel sees it (inotify IN_OPEN): no hook in
    dedup or in Python. Closes are watched too: the kernel merges an event into the one
    before it when they are alike, so two opens in a row would count as one."""

    IN_OPEN = 0x20
    IN_CLOSE = 0x08 | 0x10

    def __init__(self, *paths: Path) -> None:
        import ctypes

        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK)
        assert self.fd >= 0
        self.names = {}
        for path in paths:
            wd = self.libc.inotify_add_watch(self.fd, os.fsencode(path), self.IN_OPEN | self.IN_CLOSE)
            assert wd >= 0
            self.names[wd] = path.name

    def count(self) -> dict[str, int]:
        import struct

        counts = dict.fromkeys(self.names.values(), 0)
        try:
            data = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            data = b""
        at = 0
        while at < len(data):
            wd, mask, _cookie, size = struct.unpack_from("iIII", data, at)
            if mask & self.IN_OPEN:
                counts[self.names[wd]] += 1
            at += 16 + size
        os.close(self.fd)
        return counts


def test_apply_reads_a_file_it_moves_once(tmp_path: Path) -> None:
    root = tmp_path / "scraped"
    root.mkdir()
    shutil.copyfile(SAMPLES / PLAIN, root / "a.txt")
    shutil.copyfile(SAMPLES / PLAIN, root / "b.txt")
    export = tmp_path / "scan.json"
    code, out = _invoke("scan", str(root), "-q", "--no-cache", "-o", str(export))
    assert code == 0, out
    assert _decisions(export)["b.txt"][0] == "dropped"
    opens = _Opens(root / "a.txt", root / "b.txt")
    code, out = _invoke("apply", str(export), "--quarantine", str(tmp_path / "q"), "--yes")
    assert code == 0, out
    assert opens.count() == {"a.txt": 1, "b.txt": 1}  # the kept copy checked, the moved one checked and digested
    manifest = json.loads((tmp_path / "q" / "dedup-manifest.json").read_text(encoding="utf-8"))
    assert manifest["steps"][0]["blake2b"] == hashlib.blake2b((SAMPLES / PLAIN).read_bytes()).hexdigest()


def test_write_reads_each_record_file_once(tmp_path: Path) -> None:
    root = tmp_path / "scraped"
    root.mkdir()
    text = (SAMPLES / PLAIN).read_text(encoding="utf-8")
    lines = [json.dumps({"id": n, "text": text}) for n in ("x", "y")] + ['{"id": "z", "text": "other words"}']
    (root / "r.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "s.json").write_text(json.dumps([{"id": "w", "text": text}]), encoding="utf-8")
    export = tmp_path / "scan.json"
    code, out = _invoke("scan", str(root), "-q", "--no-cache", "-o", str(export))
    assert code == 0, out
    opens = _Opens(root / "r.jsonl", root / "s.json")
    code, out = _invoke("apply", str(export), "--write", str(tmp_path / "clean.jsonl"))
    assert code == 0, out
    assert opens.count() == {"r.jsonl": 1, "s.json": 1}
    written = (tmp_path / "clean.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in written] == ["x", "z"]  # y and w: copies of x


# 4. A file given as the quarantine or copy folder (or above the manifest) stopped the run
#    with "Error: cannot write qfile: File exists", which did not say what was wrong.


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--quarantine", "{f}"), "--quarantine {f}"),
        (("--quarantine", "{f}/sub"), "--quarantine {f}/sub"),
        (("--link", "--quarantine", "{f}"), "--quarantine {f}"),
        (("--copy-kept", "{f}"), "--copy-kept {f}"),
        (("--delete", "--manifest", "{f}/m.json"), "--manifest {f}/m.json"),
    ],
)
def test_a_file_given_as_a_folder_is_one_clear_error(tmp_path: Path, args: tuple[str, ...], named: str) -> None:
    root = tmp_path / "scraped"
    shutil.copytree(SAMPLES, root)
    export = tmp_path / "scan.json"
    code, out = _invoke("scan", str(root), "-q", "--no-cache", "-o", str(export))
    assert code == 0, out
    taken = tmp_path / "notes.txt"
    taken.write_text("mine\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["apply", str(export), *(a.format(f=taken) for a in args), "--yes"])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: {named.format(f=taken)}: {taken} is a file, not a folder\n"
    assert result.stdout == ""  # refused before the plan is shown
    assert taken.read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.name for p in root.iterdir()) == sorted(p.name for p in SAMPLES.iterdir())


# 5. Standard input could be the kept copy over a file: the file went into the drop list
#    while the kept text was only in a pipe, gone when the run ended.


def test_standard_input_is_never_kept_over_a_file(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = tmp_path / "scraped"
    shutil.copytree(SAMPLES, root)
    run = subprocess.run(
        [sys.executable, "-m", "dedup", "scan", "-", "scraped", "-q", "--no-cache", "--drop-list", "-"],
        input=(SAMPLES / PLAIN).read_bytes(), capture_output=True, cwd=tmp_path, check=False,
        env={**os.environ, "PYTHONPATH": str(Path(dedup.__file__).parent.parent)},  # this dedup
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    # the file stays; standard input's dropped copy is no file, and no list names it (B5)
    assert run.stdout.decode().splitlines() == ["scraped/001_288da1160778f453.txt"]


# 6. `dedup explain FILE:N` of a record a scan skips (a null or empty text) said the file "has
#    no record", as for a name that is no record at all.


def test_explain_of_a_skipped_record_says_why(tmp_path: Path) -> None:
    text = (SAMPLES / PLAIN).read_text(encoding="utf-8")
    rows = [{"id": "a", "meta": {"body": text}}, {"id": "c", "meta": {"body": None}}]
    data = tmp_path / "r.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = CliRunner().invoke(main, ["explain", f"{data}:a", f"{data}:2", "--text-field", "meta.body"])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: {data}:2: bad-record (line 2: 'meta.body' is null, not a string)\n"
    result = CliRunner().invoke(main, ["explain", f"{data}:a", f"{data}:c", "--text-field", "meta.body"])
    assert result.exit_code == 2, result.output
    assert result.stderr.endswith(f"; a scan skips 1 record of it, first {data}:2: line 2: 'meta.body' is null, not a string\n")
