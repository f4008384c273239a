"""Defects of the 03:40 user trial (B5): standard input in the lists, the bytes a symbolic
link's removal saves, and the Ray engine's exit on a signal. Each test failed before its fix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PLAIN, SAMPLES, child_pids

import dedup

_THIS_DEDUP = {**os.environ, "PYTHONPATH": str(Path(dedup.__file__).parent.parent), "COLUMNS": "200"}


def _scan(cwd: Path, stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "dedup", "scan", *args], input=stdin, capture_output=True, cwd=cwd, check=False,
        env=_THIS_DEDUP,
    )  # fmt: skip


# 1. A dropped copy read from standard input was `-` in the drop list: `xargs rm -- < list`
#    then removed a file named `-` in the working folder.


def test_standard_input_is_in_no_list(tmp_path: Path) -> None:
    root = tmp_path / "scraped"
    shutil.copytree(SAMPLES, root)
    (tmp_path / "-").write_text("a file named like standard input\n", encoding="utf-8")
    text = (SAMPLES / PLAIN).read_bytes()
    files = sorted(f"scraped/{p.name}" for p in SAMPLES.iterdir())
    for extra in ((), ("--absolute",), ("-0",)):
        run = _scan(tmp_path, text, "-", "scraped", "-q", "--no-cache", "--drop-list", "d", "--keep-list", "k", *extra)
        assert run.returncode == 0, run.stderr
        sep = b"\0" if extra == ("-0",) else b"\n"
        drop = (tmp_path / "d").read_bytes().split(sep)[:-1]
        keep = (tmp_path / "k").read_bytes().split(sep)[:-1]
        named = [os.path.relpath(n.decode(), tmp_path) if extra == ("--absolute",) else n.decode() for n in drop + keep]
        assert sorted(named) == files, extra  # every file once, and nothing else
        assert [os.path.basename(n) for n in drop] == [b"001_288da1160778f453.txt"]
    # the exports still show standard input's copy, as a dropped duplicate of the kept file
    run = _scan(tmp_path, text, "-", "scraped", "-q", "--no-cache", "-o", "-")
    rows = {r["id"]: (r["decision"], r["absolute"]) for r in json.loads(run.stdout)["documents"]}
    assert rows["-"] == ("dropped", "-")
    assert rows["scraped/" + PLAIN] == ("kept", str(root / PLAIN))
    assert (tmp_path / "-").read_text(encoding="utf-8") == "a file named like standard input\n"


# 2. "Dropping them saves" counted a symbolic link's target, but removing a link frees nothing
#    (and standard input's text is on no disk).


def test_a_dropped_link_or_standard_input_saves_nothing(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    shutil.copyfile(SAMPLES / PLAIN, outside)
    root = tmp_path / "scraped"
    root.mkdir()
    (root / "0_link.txt").symlink_to(outside)
    shutil.copyfile(SAMPLES / PLAIN, root / "a_copy.txt")
    run = _scan(tmp_path, b"", "scraped", "--no-cache", "-o", "scan.json", "--top", "all")
    assert run.returncode == 0, run.stderr
    export = json.loads((tmp_path / "scan.json").read_text(encoding="utf-8"))
    assert export["summary"]["duplicates"] == 1 and export["summary"]["bytes_saved"] == 0
    assert [m["decision"] for m in export["clusters"][0]["members"]] == ["keep", "drop"]
    report = run.stdout.decode()
    assert "dropping them saves 0 B." in report and "Cluster 1 · 2 copies\n" in report
    # a regular duplicate still counts its size, beside a link's and standard input's 0
    shutil.copyfile(SAMPLES / PLAIN, root / "b_copy.txt")
    run = _scan(tmp_path, (SAMPLES / PLAIN).read_bytes(), "-", "scraped", "--no-cache", "-q", "-o", "scan.json")
    assert run.returncode == 0, run.stderr
    export = json.loads((tmp_path / "scan.json").read_text(encoding="utf-8"))
    assert export["summary"]["duplicates"] == 3
    assert export["summary"]["bytes_saved"] == (SAMPLES / PLAIN).stat().st_size


# 3. `--engine ray`: a SIGTERM while ray.init starts Ray met Ray's own handler (sys.exit with
#    the signal's number): exit 15 and no Error line.


@pytest.mark.slow
def test_a_sigterm_while_ray_starts_is_the_interrupted_exit(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="ray is not installed (pip install 'dedup[ray]')")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dedup", "scan", str(SAMPLES), "--engine", "ray", "--no-cache", "-q", "-o", "x.json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=_THIS_DEDUP,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    started: list[int] = []
    while time.monotonic() < deadline and proc.poll() is None and not started:
        started = child_pids(proc.pid)  # Ray's first process (its GCS): ray.init is under way
        time.sleep(0.02)
    assert started and proc.poll() is None, "the scan ended before it started Ray"
    proc.send_signal(15)
    _, err = proc.communicate(timeout=120)
    assert (proc.returncode, err) == (143, "Error: stopped by SIGTERM\n")
    assert not (tmp_path / "x.json").exists()
    deadline = time.monotonic() + 30  # the Ray the run began to start is shut down with it
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in started):
        time.sleep(0.2)
    assert not [pid for pid in started if Path(f"/proc/{pid}").exists()]


# 4. `--engine ray`: a Ctrl-C mid-scan printed `Error: stopped by SIGINT` and then crashed
#    (exit 139) in about one run in three: Ray's C++ clean-up at the C library's exit
#    destroyed its core worker while the worker's I/O thread still used it (leave.py).


def _busy_ray_workers(pid: int) -> bool:
    """Does the run ``pid`` have a Ray worker running a batch (titled ``ray::_call``)?"""
    for raylet in child_pids(pid):
        try:
            if Path(f"/proc/{raylet}/comm").read_text().strip() != "raylet":
                continue
        except OSError:
            continue
        for worker in child_pids(raylet):
            try:
                if Path(f"/proc/{worker}/cmdline").read_bytes().startswith(b"ray::_call"):
                    return True
            except OSError:
                continue
    return False


@pytest.mark.slow
def test_a_ctrl_c_while_ray_works_never_crashes_on_the_way_out(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="ray is not installed (pip install 'dedup[ray]')")
    from dedup.corpus import generate

    generate(tmp_path / "c", seed=1, articles=400)
    outcomes, raylets = [], []
    for run in range(10):
        proc = subprocess.Popen(
            [sys.executable, "-m", "dedup", "scan", "c", "--engine", "ray", "--no-cache", "-q", "-o", "x.json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=_THIS_DEDUP,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and not _busy_ray_workers(proc.pid):
            time.sleep(0.05)
        assert proc.poll() is None, "the scan ended before its Ray workers were busy"
        raylets += [c for c in child_pids(proc.pid) if Path(f"/proc/{c}/comm").read_text().strip() == "raylet"]
        time.sleep(0.15 * run)  # a different moment of the scan each time
        proc.send_signal(2)
        _, err = proc.communicate(timeout=120)
        outcomes.append((proc.returncode, err))
    assert outcomes == [(130, "Error: stopped by SIGINT\n")] * 10
    assert not (tmp_path / "x.json").exists()
    assert len(raylets) == 10 and not [pid for pid in raylets if Path(f"/proc/{pid}").exists()]  # Ray shut down
