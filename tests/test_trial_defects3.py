"""Defects of the 20:25 new-user trial (issues 11/16): -j far above the cores, explain's ids,
Ctrl-C while starting, an unknown --prefer keyword, the corpus's truth file, size options."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SAMPLES

from dedup import workers
from dedup.cli import main
from dedup.config import ScanConfig
from dedup.options import RunOptions, max_jobs
from dedup.pipeline import scan


def _run(args: list[str], input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args, env={"COLUMNS": "200"}, input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _pid(_: int) -> int:
    return os.getpid()


# 1. -j 999 on a 2-core machine started 999 worker processes.


def test_local_jobs_are_capped_at_a_multiple_of_the_cores_and_ray_is_not() -> None:
    cores = os.cpu_count() or 1
    assert max_jobs() == 2 * cores
    assert RunOptions().jobs(ScanConfig(jobs=999)) == 2 * cores
    assert RunOptions().jobs(ScanConfig(jobs=1)) == 1
    assert RunOptions().jobs(ScanConfig(jobs=0)) == cores  # 0 stays "all cores"
    assert RunOptions(engine="ray").jobs(ScanConfig(jobs=999)) == 999  # a cluster's CPUs are its own


def test_a_pool_starts_no_more_workers_than_it_has_tasks() -> None:
    pool = workers.Pool(64)
    try:
        assert sorted(pool.map(_pid, range(3))) != []
        assert 1 <= len(pool.pids) <= 3
        pool.start(5)
        assert len(pool.pids) == 5
        assert len(set(pool.map(_pid, range(40)))) >= 2
    finally:
        pool.close()


def test_jobs_far_above_the_cores_gives_the_same_clusters_and_one_warning(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    shutil.copytree(SAMPLES, folder)
    for i, src in enumerate(sorted(SAMPLES.iterdir())):  # more than one task's files
        shutil.copy(src, folder / f"copy{i}.txt")
    options = RunOptions(files_per_task=2)
    many = scan(folder, ScanConfig(jobs=999), options=options, cache=None)
    two = scan(folder, ScanConfig(jobs=2), options=options, cache=None)
    assert [[m.doc_id for m in c.members] for c in many.clusters] == [
        [m.doc_id for m in c.members] for c in two.clusters
    ]
    assert len(many.clusters) == 4  # samples 000 and 001 are copies already
    code, _out, err = _run(["scan", str(folder), "-j", "999", "--no-cache", "-q", "-o", str(tmp_path / "a.jsonl")])
    assert code == 0
    lines = [line for line in err.splitlines() if "-j 999" in line]
    assert lines == [
        f"warning: -j 999: using {max_jobs()} worker processes (2 per core on {os.cpu_count() or 1} cores)"
    ]
    code, _out, err = _run(["scan", str(folder), "-j", "2", "--no-cache", "-q", "-o", str(tmp_path / "b.jsonl")])
    assert code == 0 and "worker processes" not in err
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


# 2. explain did not take the ids a scan prints when an id repeats (``1@L3``), and named such
#    records by their repeated id.

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi"


def _repeated_ids(folder: Path) -> Path:
    """Line 1 has no id (a scan calls it by its line, 1); lines 2 and 3 both have id 1."""
    lines = [
        {"text": "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen"},
        {"id": 1, "text": WORDS + " rho"},
        {"id": 1, "text": WORDS + " sigma"},
    ]
    path = folder / "col.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def test_explain_takes_and_prints_the_ids_the_scan_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _repeated_ids(tmp_path)
    code, out, _err = _run(["scan", "col.jsonl", "--no-cache", "-q", "-o", "-", "--format", "jsonl"])
    assert code == 0
    by_line = {row["record"]: row["id"] for row in map(json.loads, out.splitlines())}
    assert by_line == {2: "col.jsonl:1@L2", 3: "col.jsonl:1@L3"}
    for a, b in (("col.jsonl:1@L3", "col.jsonl:1@L2"), ("col.jsonl:3", "col.jsonl:2")):
        code, out, err = _run(["explain", a, b])
        assert code == 0, err
        labels = [line.split()[2] for line in out.splitlines() if line.startswith(("│ A ", "│ B "))]
        assert labels == ["col.jsonl:1@L3", "col.jsonl:1@L2"]
    code, out, err = _run(["explain", "col.jsonl:1", "col.jsonl:1@L2"])  # id 1 is line 1's, as in the scan
    assert code == 0, err
    assert [line.split()[2] for line in out.splitlines() if line.startswith(("│ A ", "│ B "))] == [
        "col.jsonl:1",
        "col.jsonl:1@L2",
    ]


# 3. A Ctrl-C while the program's modules loaded printed a KeyboardInterrupt traceback.

PROGRAM_FORMS = (
    ["-m", "dedup"],
    ["-c", "import sys; from dedup.entry import run; sys.exit(run())"],  # what the console script runs
)


def test_the_console_script_starts_at_the_small_entry_module() -> None:
    text = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dedup = "dedup.entry:run"' in text


ENTRY = Path(__file__).resolve().parent.parent / "dedup" / "entry.py"
#: The line of entry.py that puts the handlers in place: a signal before it is Python's to handle.
HANDLERS_LINE = next(
    n for n, line in enumerate(ENTRY.read_text(encoding="utf-8").splitlines(), 1) if "_signal.signal(" in line
)


def before_the_handlers(err: str) -> bool:
    """Whether a traceback was raised before dedup's handlers were set: in Python's start-up
    (no frame of dedup), the package's or the entry module's own import, or ``entry.run``
    before the line that sets them."""
    frames = re.findall(r'File "([^"]+)", line (\d+), in (\S+)', err)
    ours = [(Path(f).name, int(n), fn) for f, n, fn in frames if f"{os.sep}dedup{os.sep}" in f]
    return all(
        (name in ("__init__.py", "__main__.py", "entry.py") and fn in ("<module>", "<genexpr>", "<dictcomp>"))
        or (name == "entry.py" and fn == "run" and n <= HANDLERS_LINE)
        for name, n, fn in ours
    )


def test_the_before_the_handlers_check_reads_frames() -> None:
    early = f'Traceback (most recent call last):\n  File "<string>", line 1, in <module>\n  File "{ENTRY}", line 20, in <module>\nKeyboardInterrupt\n'
    late = f'Traceback (most recent call last):\n  File "{ENTRY}", line {HANDLERS_LINE + 2}, in run\n  File "{ENTRY.parent / "cli.py"}", line 5, in <module>\nKeyboardInterrupt\n'
    assert before_the_handlers(early)
    assert not before_the_handlers(late)


@pytest.mark.slow
@pytest.mark.parametrize("form", PROGRAM_FORMS, ids=["python -m dedup", "console script"])
def test_ctrl_c_at_any_early_moment_is_one_line_and_exit_130(form: list[str], tmp_path: Path) -> None:
    folder = tmp_path / "c"
    shutil.copytree(SAMPLES, folder)
    env = {**os.environ, "DEDUP_CACHE_DIR": str(tmp_path / "cache")}
    # How long the interpreter takes to start (site, .pth files): a signal before then meets
    # Python's own start-up, not this program, so the delays are counted from there.
    # The slowest of three starts: start-up time varies with the machine's load.
    base = 0.0
    for _ in range(3):
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", "pass"], check=True, env=env)
        base = max(base, time.monotonic() - started)
    stopped = 0
    for delay in (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.45, 0.7):
        proc = subprocess.Popen(
            [sys.executable, *form, "scan", str(folder), "--no-cache", "-o", str(tmp_path / f"out{delay}.json")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        time.sleep(base + delay)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
        if "Traceback" in err and before_the_handlers(err):
            continue  # the signal met Python's start-up or dedup's first lines, before a handler could be set
        assert "Traceback" not in err, (delay, err)
        if proc.returncode == -signal.SIGINT and not err:
            # The run had ended and written its export; the signal met the interpreter's
            # finalisation, where Python puts the default action back.
            assert (tmp_path / f"out{delay}.json").is_file()
            continue
        assert proc.returncode in (0, 130), (delay, proc.returncode, err)
        if proc.returncode == 130:
            stopped += 1
            assert err.splitlines()[-1] == "Error: stopped by SIGINT", (delay, err)
    assert stopped >= 3  # the signal did arrive mid-run, not only after it ended


# 4. ``--prefer newst`` (a misspelt rule, matching no file) was passed over without a word.


def test_a_prefer_rule_that_is_no_keyword_and_matches_no_file_is_named_once(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    shutil.copytree(SAMPLES, folder)
    args = ["scan", str(folder), "-q", "-o", str(tmp_path / "p.json"), "--prefer", "newst", "--prefer", "site-x/"]
    for _ in range(2):  # the second run is served from the cache, and says it again
        code, _out, err = _run([*args, "--prefer", "00*", "--prefer", "oldest"])
        assert code == 0
        lines = [line for line in err.splitlines() if "--prefer" in line]
        assert lines == [
            "warning: --prefer 'newst' is not a rule and matches no file, so it changes nothing: did you mean "
            "newest? the rules are newest, oldest, shortest-path, or a glob or folder of the files scanned",
            "warning: --prefer 'site-x/' is not a rule and matches no file, so it changes nothing: the rules "
            "are newest, oldest, shortest-path, or a glob or folder of the files scanned",
        ]
    code, _out, err = _run(["scan", str(folder), "-q", "-o", str(tmp_path / "q.json"), "--prefer", "newest"])
    assert code == 0 and "--prefer" not in err


# 5. ``dedup corpus OUT`` then ``dedup scan OUT`` listed every line of OUT/truth.jsonl as a bad record.


def test_the_corpus_truth_file_is_known_as_dedups_own_and_eval_still_reads_it(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    code, _out, err = _run(["corpus", str(out), "--articles", "5"])
    assert code == 0, err
    code, _out, err = _run(["scan", str(out), "--no-cache", "-q", "-o", str(tmp_path / "s.json")])
    assert code == 0, err
    skipped = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))["skipped"]
    assert [(s["path"], s["reason"]) for s in skipped] == [("truth.jsonl", "dedup-output")]
    code, _stdout, err = _run(
        ["eval", str(out), "--truth", str(out / "truth.jsonl"), "--json", str(tmp_path / "e.json")]
    )
    assert code == 0, err
    scores = json.loads((tmp_path / "e.json").read_text(encoding="utf-8"))
    lines = [json.loads(line) for line in (out / "truth.jsonl").read_text(encoding="utf-8").splitlines()]
    assert scores["unknown_truth_ids"] == 0
    assert scores["truth_clusters"] == sum(1 for line in lines if len(line["ids"]) > 1)


def test_a_users_own_truth_like_lines_are_still_read_as_records(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "notes.jsonl").write_text(json.dumps({"cluster": "a1", "ids": ["x"]}) + "\n", encoding="utf-8")
    shutil.copy(SAMPLES / "000_8bcd120cc8060ff3.txt", folder)
    code, _out, err = _run(["scan", str(folder), "--no-cache", "-q", "-o", str(tmp_path / "s.json")])
    assert code == 0, err
    skipped = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))["skipped"]
    assert [(s["path"], s["reason"]) for s in skipped] == [("notes.jsonl:1", "bad-record")]


# 6. ``--max-bytes 10K`` was "not a valid integer range" while ``cache prune --max-size 500M``
#    took suffixes; ``--max-size abc`` did not name the option.


def test_both_size_options_take_the_same_sizes_and_name_themselves_when_wrong(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    shutil.copytree(SAMPLES, folder)
    small = min(p.stat().st_size for p in folder.iterdir())
    limit_k = small // 1024  # below the smallest file: every file is too large
    code, _out, err = _run(["scan", str(folder), "--no-cache", "-q", "--max-bytes", f"{limit_k}K"])
    assert code == 2 and "too-large" in err, err  # each file skipped: nothing could be read
    code, _out, err = _run(
        [
            "scan",
            str(folder),
            "--cache-dir",
            str(tmp_path / "cache"),
            "-q",
            "-o",
            str(tmp_path / "s.json"),
            "--max-bytes",
            "1M",
        ]
    )
    assert code == 0, err
    assert json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))["skipped"] == []
    code, _out, err = _run(["scan", str(folder), "--max-bytes", "10Q"])
    assert (code, err) == (2, "Error: Invalid value for '--max-bytes': '10Q' is not a size (such as 10K, 500M or 8G)\n")
    code, _out, err = _run(["cache", "prune", "--cache-dir", str(tmp_path / "cache"), "--max-size", "abc"])
    assert (code, err) == (2, "Error: Invalid value for '--max-size': 'abc' is not a size (such as 10K, 500M or 8G)\n")
    code, out, err = _run(["cache", "prune", "--cache-dir", str(tmp_path / "cache"), "--max-size", "500M"])
    assert code == 0 and out.startswith("pruned "), err
