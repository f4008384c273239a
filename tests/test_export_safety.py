"""Where exports and lists go, and what they hold: devices, FIFOs and links are written
through (never replaced), an input is never an output, and names are written unambiguously.

Real files, real devices (/dev/null, /dev/full), real FIFOs with a reader thread, and the
real program in a subprocess where the test needs its own stdout.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import OTHERS, PLAIN, SAMPLES

import dedup
from dedup.cli import main
from dedup.export import escape_name, name_bytes

ENV = {**os.environ, "PYTHONPATH": str(Path(dedup.__file__).resolve().parent.parent)}
TEXT = (SAMPLES / PLAIN).read_text(encoding="utf-8")


def run_dedup(*args: str) -> subprocess.CompletedProcess[bytes]:
    """The real program, with the code under test (not whatever is installed)."""
    return subprocess.run(
        [sys.executable, "-m", "dedup", *args], env=ENV, capture_output=True, check=False, timeout=120
    )


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def pair(tmp_path: Path) -> Path:
    """A folder with one pair of copies and one unique file."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXT, encoding="utf-8")
    (folder / "b.txt").write_text(TEXT + "\nOne more line at the end.\n", encoding="utf-8")
    (folder / "c.txt").write_text((SAMPLES / OTHERS[0]).read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def _is_char_device(path: str) -> bool:
    return stat.S_ISCHR(os.stat(path).st_mode)


# --- 1. exports write through to what is not a regular file ---------------------------------


def test_fifo_with_a_waiting_reader_gets_the_export(runner: CliRunner, pair: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = runner.invoke(main, ["scan", str(pair), "-q", "--no-cache", "-o", str(fifo)], catch_exceptions=False)
    reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert not reader.is_alive()
    assert json.loads(got[0])["schema"] == "dedup.scan/1"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still the FIFO, not a file put in its place
    assert sorted(os.listdir(tmp_path)) == ["corpus", "pipe.json"]


def test_drop_list_into_a_fifo(runner: CliRunner, pair: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "drop"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = runner.invoke(main, ["scan", str(pair), "-q", "--no-cache", "--drop-list", str(fifo)])
    reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert got == [b"b.txt\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_link_to_dev_null_stays_a_link(runner: CliRunner, pair: Path, tmp_path: Path) -> None:
    link = tmp_path / "null.json"
    link.symlink_to("/dev/null")
    result = runner.invoke(main, ["scan", str(pair), "-q", "--no-cache", "-o", str(link)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert _is_char_device("/dev/null")


def test_dev_null_itself_stays_a_device(runner: CliRunner, pair: Path) -> None:
    args = ["scan", str(pair), "-q", "--no-cache", "-o", "/dev/null", "--format", "json"]
    result = runner.invoke(main, [*args, "--drop-list", "/dev/null"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert _is_char_device("/dev/null")


@pytest.mark.parametrize("through_link", [False, True])
def test_dev_full_is_a_one_line_error(runner: CliRunner, pair: Path, tmp_path: Path, through_link: bool) -> None:
    target = "/dev/full"
    if through_link:
        link = tmp_path / "full.csv"
        link.symlink_to("/dev/full")
        target = str(link)
    result = runner.invoke(main, ["scan", str(pair), "-q", "--no-cache", "-o", target, "--format", "csv"])
    assert result.exit_code == 2
    assert result.stderr == f"Error: cannot write {target}: No space left on device\n"
    assert _is_char_device("/dev/full")
    if through_link:
        assert Path(target).is_symlink()
        assert sorted(os.listdir(tmp_path)) == ["corpus", "full.csv"]  # no temporary file left


def test_drop_list_to_dev_stdout_goes_to_stdout(pair: Path) -> None:
    proc = run_dedup("scan", str(pair), "-q", "--no-cache", "--drop-list", "/dev/stdout")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"b.txt\n"
    assert os.path.islink("/dev/stdout")


def test_regular_files_are_still_replaced_atomically(runner: CliRunner, pair: Path, tmp_path: Path) -> None:
    out = tmp_path / "scan.json"
    out.write_text("old", encoding="utf-8")
    before = out.stat().st_ino
    result = runner.invoke(main, ["scan", str(pair), "-q", "--no-cache", "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0
    assert out.stat().st_ino != before  # a new file renamed into place
    assert json.loads(out.read_text(encoding="utf-8"))["summary"]["duplicates"] == 1


def test_stale_temp_files_of_a_dead_writer_are_removed(runner: CliRunner, pair: Path, tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".scan.json.{dead.pid}.k3j2h1.tmp"
    stale.write_text("half an export", encoding="utf-8")
    alive = tmp_path / f".scan.json.{os.getpid()}.zzzzzz.tmp"  # a writer that still runs: kept
    alive.write_text("being written", encoding="utf-8")
    out = tmp_path / "scan.json"
    result = runner.invoke(main, ["scan", str(pair), "-q", "--no-cache", "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0
    assert not stale.exists()
    assert alive.exists()


# --- 1. an output that is an input is refused before the scan -------------------------------


@pytest.mark.parametrize("option", ["-o", "--keep-list", "--drop-list"])
def test_an_input_file_given_as_output_is_refused(runner: CliRunner, pair: Path, option: str) -> None:
    victim = pair / "a.txt"
    before = victim.read_bytes()
    extra = ["--format", "json"] if option == "-o" else []
    args = ["scan", str(victim), str(pair / "b.txt"), "--no-cache", option, str(victim), *extra]
    result = runner.invoke(main, args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ")
    assert "is one of the files this scan reads" in result.stderr
    assert victim.read_bytes() == before


def test_a_file_inside_a_scanned_folder_is_refused(runner: CliRunner, pair: Path) -> None:
    victim = pair / "c.txt"
    before = victim.read_bytes()
    result = runner.invoke(main, ["scan", str(pair), "--no-cache", "--keep-list", str(victim)])
    assert result.exit_code == 2
    assert f"--keep-list {victim} is one of the files this scan reads" in result.stderr
    assert victim.read_bytes() == before
    # The same file left out of the scan is not an input: writing it is what was asked.
    result = runner.invoke(
        main, ["scan", str(pair), "-q", "--no-cache", "--exclude", "c.txt", "--keep-list", str(victim)]
    )
    assert result.exit_code == 0, result.output
    assert victim.read_text(encoding="utf-8") == "a.txt\n"


def test_a_hard_link_to_an_input_is_refused(runner: CliRunner, pair: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere.json"
    os.link(pair / "a.txt", other)
    result = runner.invoke(main, ["scan", str(pair / "a.txt"), str(pair / "b.txt"), "--no-cache", "-o", str(other)])
    assert result.exit_code == 2
    assert (pair / "a.txt").read_text(encoding="utf-8") == TEXT


# --- 17. lists and CSV: unambiguous escapes, no raw controls, -0 ------------------------------

OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"
NAMES = [
    "new\nline.txt",  # a real line break
    "new\\nline.txt",  # a backslash and an n
    "bell\x07.txt",
    f"osc{OSC52}.txt",
    "tab\there.txt",
]
BAD_BYTES = b"caf\xe9.txt"  # Latin-1, not UTF-8
LITERAL = "caf\\xe9.txt"  # the four characters \xe9


@pytest.fixture
def odd_names(tmp_path: Path) -> Path:
    """A copy of one text under names that lists and CSV must keep apart and defuse."""
    folder = tmp_path / "odd"
    folder.mkdir()
    for name in NAMES:
        (folder / name).write_text(TEXT, encoding="utf-8")
    with open(os.path.join(os.fsencode(folder), BAD_BYTES), "w", encoding="utf-8") as f:
        f.write(TEXT)
    (folder / LITERAL).write_text(TEXT, encoding="utf-8")
    return folder


def _all_names() -> list[str]:
    return sorted([*NAMES, os.fsdecode(BAD_BYTES), LITERAL])


def test_list_lines_are_unambiguous_and_hold_no_controls(runner: CliRunner, odd_names: Path, tmp_path: Path) -> None:
    keep, drop = tmp_path / "keep.txt", tmp_path / "drop.txt"
    args = ["scan", str(odd_names), "-q", "--no-cache", "--keep-list", str(keep), "--drop-list", str(drop)]
    result = runner.invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    raw = keep.read_bytes() + drop.read_bytes()
    assert not any(b < 0x20 and b != 0x0A for b in raw)  # no ESC, BEL, tab; only line ends
    lines = raw.decode("utf-8").splitlines()
    assert len(lines) == len(set(lines)) == 7  # seven names, seven different lines
    assert sorted(lines) == sorted(escape_name(n) for n in _all_names())
    assert "new\\nline.txt" in lines and "new\\\\nline.txt" in lines
    assert "caf\\xe9.txt" in lines and "caf\\\\xe9.txt" in lines
    assert "osc\\x1b]52;c;cm0gLXJmIH4=\\x07.txt" in lines


def test_csv_holds_no_controls_and_keeps_names_apart(runner: CliRunner, odd_names: Path, tmp_path: Path) -> None:
    out = tmp_path / "scan.csv"
    result = runner.invoke(main, ["scan", str(odd_names), "-q", "--no-cache", "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert not any(b < 0x20 and b not in (0x0A, 0x0D) for b in raw)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))[1:]
    ids = sorted(row[1] for row in rows)
    assert ids == sorted(escape_name(n) for n in _all_names())


def test_null_lists_carry_the_exact_name_bytes(odd_names: Path) -> None:
    proc = run_dedup("scan", str(odd_names), "-q", "--no-cache", "-0", "--drop-list", "-")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith(b"\0")
    dropped = proc.stdout.split(b"\0")[:-1]
    expected = sorted(os.fsencode(n) for n in _all_names())
    # One cluster of seven copies: six dropped, the kept one is among the names.
    assert len(dropped) == 6 and set(dropped) < set(expected)
    for name in dropped:  # each entry opens the very file (xargs -0 would)
        assert (odd_names / os.fsdecode(name)).read_text(encoding="utf-8") == TEXT
    keep = run_dedup("scan", str(odd_names), "-q", "--no-cache", "--null", "--keep-list", "-")
    assert sorted([*dropped, *keep.stdout.split(b"\0")[:-1]]) == expected


def test_escape_name_examples() -> None:
    assert escape_name("plain/name.txt") == "plain/name.txt"
    assert escape_name("a\\b") == "a\\\\b"
    assert escape_name("\x1b[31m\x7f") == "\\x1b[31m\\x7f"
    assert escape_name("nel\u0085 rlo\u202e ls\u2028") == "nel\\u0085 rlo\\u202e ls\\u2028"
    assert escape_name(os.fsdecode(b"\xff")) == "\\xff"
    assert escape_name("\u00ff") == "\u00ff"  # a real character is written as itself
    assert name_bytes(os.fsdecode(b"a\xffb\n")) == b"a\xffb\n"


def test_null_needs_a_list(runner: CliRunner, pair: Path) -> None:
    result = runner.invoke(main, ["scan", str(pair), "-0"])
    assert result.exit_code == 2
    assert "-0/--null needs --keep-list or --drop-list" in result.stderr
