"""How the program ends: every exit code of the README's table, one line on stderr and no
traceback, no temporary files left behind, and every check of the options made before the
scan. Signals are real signals sent to a real ``dedup scan`` in the middle of its run.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PLAIN, REPO, SAMPLES

import dedup
from dedup.cli import EXIT_CLOSED_PIPE, main

ENV = {**os.environ, "PYTHONPATH": str(Path(dedup.__file__).resolve().parent.parent)}
TEXT = (SAMPLES / PLAIN).read_text(encoding="utf-8")


def dedup_args(*args: str) -> list[str]:
    return [sys.executable, "-m", "dedup", *args]


def run_dedup(*args: str, env: dict[str, str] | None = None, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    """The real program, with the code under test (not whatever is installed)."""
    if "stdout" not in kwargs:
        kwargs["capture_output"] = True
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        dedup_args(*args), env=env or ENV, check=False, timeout=300, **kwargs
    )


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def pair(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXT, encoding="utf-8")
    (folder / "b.txt").write_text(TEXT + "\nOne more line at the end.\n", encoding="utf-8")
    return folder


def one_error_line(stderr: bytes | str) -> str:
    """The one ``Error:`` line a failed run prints; fails on anything more (a traceback)."""
    text = stderr.decode("utf-8") if isinstance(stderr, bytes) else stderr
    assert "Traceback" not in text
    assert text.endswith("\n") and text.count("\n") == 1, text
    assert text.startswith("Error: "), text
    return text.rstrip("\n")


# --- 14. tracebacks -----------------------------------------------------------------------


def test_report_to_a_full_disk_is_one_line(pair: Path) -> None:
    with open("/dev/full", "wb") as full:
        proc = run_dedup("scan", str(pair), "--no-cache", stdout=full, stderr=subprocess.PIPE)
    assert proc.returncode == 2
    assert one_error_line(proc.stderr) == "Error: cannot write the report: No space left on device"


def test_export_to_a_closed_stdout_is_one_line(pair: Path) -> None:
    proc = subprocess.run(
        dedup_args("scan", str(pair), "--no-cache", "-o", "-"),
        env=ENV,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.close(1),
        check=False,
        timeout=120,
    )
    assert proc.returncode == 2
    assert one_error_line(proc.stderr) == "Error: cannot write to stdout: it is closed"


def test_a_bad_glob_is_a_usage_error_naming_it(runner: CliRunner, pair: Path) -> None:
    result = runner.invoke(main, ["scan", str(pair), "--no-cache", "--include", "[z-a]"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.endswith("Error: bad glob '[z-a]': bad character range z-a\n")


# --- 15. exit codes for signals and a closed pipe -------------------------------------------


def _closed_reader(*args: str) -> subprocess.CompletedProcess[bytes]:
    """Run dedup with a stdout pipe whose reader has gone, as in ``dedup scan ... | head -0``."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            dedup_args(*args), env=ENV, stdout=write_end, stderr=subprocess.PIPE, check=False, timeout=120
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args",
    [["-v"], ["-o", "-"], ["-q", "--keep-list", "-"], ["-q", "-0", "--drop-list", "-"]],
    ids=["report", "export", "list", "null-list"],
)
def test_a_closed_pipe_is_a_quiet_exit_141(pair: Path, args: list[str]) -> None:
    proc = _closed_reader("scan", str(pair), "--no-cache", *args)
    assert proc.returncode == EXIT_CLOSED_PIPE == 141
    assert proc.stderr == b""


def test_closed_pipe_differs_from_duplicates_found(pair: Path) -> None:
    proc = _closed_reader("scan", str(pair), "--no-cache", "--fail-on-duplicates")
    assert proc.returncode == 141
    assert run_dedup("scan", str(pair), "--no-cache", "-q", "--fail-on-duplicates").returncode == 1


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 1,500 generated files: a scan with two workers runs for several seconds."""
    folder = tmp_path_factory.mktemp("big") / "corpus"
    subprocess.run(
        [sys.executable, "-m", "dedup.corpus", "--articles", "300", "--no-samples", str(folder)],
        env=ENV,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return folder


@pytest.fixture
def private_tmp(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An environment whose TMPDIR is a fresh folder, so spill folders can be counted."""
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    yield {**ENV, "TMPDIR": str(folder)}


def _spill_dirs(env: dict[str, str]) -> list[str]:
    return sorted(n for n in os.listdir(env["TMPDIR"]) if n.startswith("dedup-"))


def _start_mid_run(corpus: Path, out: Path, env: dict[str, str], **kwargs: object) -> subprocess.Popen[bytes]:
    """Start a scan with two workers and return once it is hashing (its spill folder exists)."""
    before = set(_spill_dirs(env))
    proc = subprocess.Popen(  # type: ignore[call-overload]
        dedup_args("scan", str(corpus), "--no-cache", "-q", "-j", "2", "-o", str(out)),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )
    deadline = time.monotonic() + 60
    while not set(_spill_dirs(env)) - before:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the scan never started hashing"
        time.sleep(0.02)
    time.sleep(0.3)
    assert proc.poll() is None
    return proc  # type: ignore[no-any-return]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "code", "name"),
    [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM"), (signal.SIGHUP, 129, "SIGHUP")],
)
@pytest.mark.parametrize("to_group", [False, True], ids=["process", "group"])
def test_a_signal_mid_run_cleans_up_and_exits_128_plus_n(
    big_corpus: Path, private_tmp: dict[str, str], tmp_path: Path, sig: int, code: int, name: str, to_group: bool
) -> None:
    """Sent to the run alone (``kill``) or to its whole process group, workers included
    (Ctrl-C in a terminal, a closed terminal's SIGHUP, ``kill -- -PGID``)."""
    out = tmp_path / "out" / "scan.json"
    out.parent.mkdir()
    proc = _start_mid_run(big_corpus, out, private_tmp, start_new_session=True)
    if to_group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code
    assert one_error_line(stderr) == f"Error: stopped by {name}"
    assert _spill_dirs(private_tmp) == []
    assert os.listdir(out.parent) == []  # no export, and no temporary file of one


@pytest.mark.slow
def test_a_killed_runs_spill_folder_goes_at_the_next_start(
    big_corpus: Path, private_tmp: dict[str, str], tmp_path: Path, pair: Path
) -> None:
    proc = _start_mid_run(big_corpus, tmp_path / "scan.json", private_tmp)
    (left,) = _spill_dirs(private_tmp)
    assert re.fullmatch(rf"dedup-{proc.pid}-\w+", left)  # named by the run's pid
    proc.kill()
    _, stderr = proc.communicate(timeout=60)  # returns when the orphaned workers have gone too
    assert proc.returncode == -signal.SIGKILL
    assert b"Traceback" not in stderr  # the workers left without printing BrokenPipeError
    assert _spill_dirs(private_tmp) == [left]
    # A live run's folder is never taken: one started now keeps its own and removes the dead one's.
    live = _start_mid_run(big_corpus, tmp_path / "scan2.json", private_tmp)
    assert left not in _spill_dirs(private_tmp)
    assert len(_spill_dirs(private_tmp)) == 1
    live.send_signal(signal.SIGTERM)
    live.communicate(timeout=60)
    assert _spill_dirs(private_tmp) == []


# --- 16. checks before the work --------------------------------------------------------------


def test_a_missing_output_folder_fails_before_the_scan(runner: CliRunner, pair: Path, private_cache: Path) -> None:
    result = runner.invoke(main, ["scan", str(pair), "-o", str(pair.parent / "nope" / "scan.json")])
    assert result.exit_code == 2
    assert (
        one_error_line(result.stderr)
        == f"Error: cannot write --output {pair.parent}/nope/scan.json: {pair.parent}/nope does not exist"
    )
    assert os.listdir(private_cache) == []  # the scan never ran: it would have made the cache


@pytest.mark.parametrize(
    "args",
    [
        ["--keep-list", "L", "--drop-list", "L"],
        ["-o", "-", "--drop-list", "-"],
        ["--keep-list", "-", "--drop-list", "-"],
        ["-o", "c.json", "--format", "csv"],
        ["-o", "c.csv", "--format", "jsonl"],
    ],
)
def test_contradicting_outputs_are_usage_errors(
    runner: CliRunner, pair: Path, tmp_path: Path, private_cache: Path, args: list[str]
) -> None:
    args = [str(tmp_path / a) if a in ("L", "c.json", "c.csv") else a for a in args]
    result = runner.invoke(main, ["scan", str(pair), *args])
    assert result.exit_code == 2
    assert re.fullmatch(r"Error: .*(both write to|contradicts the extension).*\n", result.stderr)
    assert result.stdout == ""
    assert sorted(os.listdir(tmp_path)) == ["corpus"]
    assert os.listdir(private_cache) == []


def test_a_text_field_no_record_has_is_an_error_naming_the_fields(runner: CliRunner, tmp_path: Path) -> None:
    dump = tmp_path / "dump.jsonl"
    line = json.dumps({"body": TEXT[:400], "url": "https://example.com/a"}) + "\n"
    dump.write_text(line * 5000, encoding="utf-8")
    keep = tmp_path / "keep.txt"
    result = runner.invoke(main, ["scan", str(dump), "--no-cache", "--keep-list", str(keep)])
    assert result.exit_code == 2
    assert one_error_line(result.stderr) == (
        "Error: no document could be read: 5,000 skipped (bad-record 5,000); "
        f"first: {dump}:1: line 1: no 'text' field (fields: body, url)"
    )
    assert not keep.exists()


def test_partly_readable_input_still_gives_its_result(runner: CliRunner, tmp_path: Path) -> None:
    dump = tmp_path / "dump.jsonl"
    bad = json.dumps({"body": "no text field"}) + "\n"
    good = json.dumps({"text": TEXT}) + "\n"
    dump.write_text(bad * 10 + good + good, encoding="utf-8")
    result = runner.invoke(main, ["scan", str(dump), "--no-cache", "-q", "--drop-list", "-"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout == f"{dump}:12\n"


def test_an_include_that_matches_nothing_is_an_error(runner: CliRunner, pair: Path) -> None:
    result = runner.invoke(main, ["scan", str(pair), "--no-cache", "--include", "*.html"])
    assert result.exit_code == 2
    assert (
        one_error_line(result.stderr) == f"Error: no file to read under {pair}: --include '*.html' left out every file"
    )


def test_an_empty_folder_without_filters_is_not_an_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["scan", str(tmp_path), "--no-cache", "-q"], catch_exceptions=False)
    assert result.exit_code == 0


# --- the README's exit-code table -------------------------------------------------------------


def _readme_exit_codes() -> set[int]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    return {int(m) for m in re.findall(r"^\| \*\*(\d+)\*\* \|", section, flags=re.M)}


def test_readme_lists_every_exit_code() -> None:
    # 0 and 1 and 2: test_cli.py and the tests above; 129/130/143 and 141: the tests above.
    assert _readme_exit_codes() == {0, 1, 2, 129, 130, 141, 143}


def test_exit_codes_0_1_2(runner: CliRunner, pair: Path) -> None:
    assert run_dedup("scan", str(pair), "--no-cache", "-q").returncode == 0
    assert run_dedup("scan", str(pair), "--no-cache", "-q", "--fail-on-duplicates").returncode == 1
    proc = run_dedup("scan", str(pair / "missing"), "--no-cache")
    assert proc.returncode == 2
    assert one_error_line(proc.stderr).startswith("Error: no such file or folder")
