"""Fault injection and misuse, end to end, with the invariants every case must keep.

Each case runs the real program (a subprocess of the installed entry point, or ``scan``
in-process with its progress callback as the hook between stages) on real files, then
checks what a user relies on:

* no traceback, and an exit code from the README's table;
* no input or special file changed (a snapshot of the tree, types and modes included);
* the output equals a clean scan without the cache;
* no temporary file or spill folder left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from saboteur import FAULTS, Saboteur

from dedup import ScanConfig, ScanResult, scan
from dedup.corpus import main as corpus_main

DOCUMENTED_EXITS = {0, 1, 2, 129, 130, 141, 143}
DEDUP = [sys.executable, "-m", "dedup"]
SAMPLES_TEXT = (Path(__file__).resolve().parent.parent / "samples" / "000_8bcd120cc8060ff3.txt").read_text(
    encoding="utf-8"
)


def _snapshot(root: Path) -> dict[str, tuple[str, int, str]]:
    """Every entry under root: its type, mode and (for regular files) content digest."""
    out: dict[str, tuple[str, int, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            if stat.S_ISREG(st.st_mode):
                digest = hashlib.sha256(p.read_bytes()).hexdigest()
                out[str(p.relative_to(root))] = ("file", stat.S_IMODE(st.st_mode), digest)
            else:
                kind = "dir" if stat.S_ISDIR(st.st_mode) else "link" if stat.S_ISLNK(st.st_mode) else "special"
                out[str(p.relative_to(root))] = (kind, stat.S_IMODE(st.st_mode), "")
    return out


def _leftovers(tmpdir: Path) -> list[str]:
    return sorted(p.name for p in tmpdir.iterdir() if p.name.startswith("dedup") or p.name.endswith(".tmp"))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A generated corpus of a few hundred files: copies in every clothing, and negatives."""
    out = tmp_path / "corpus"
    assert corpus_main([str(out), "--seed", "3", "--articles", "30"]) == 0
    (out / "truth.jsonl").unlink()
    return out


@pytest.fixture
def private_tmp(tmp_path: Path) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder


def _run(
    args: list[str], tmpdir: Path, cache: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    if cache is not None:
        env["DEDUP_CACHE_DIR"] = str(cache)
    return subprocess.run(DEDUP + args, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def _check(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in DOCUMENTED_EXITS, (proc.returncode, proc.stderr)
    if proc.returncode == 2:
        errors = [line for line in proc.stderr.splitlines() if line.startswith("Error: ")]
        assert len(errors) == 1, proc.stderr


def _clean_export(root: Path, tmp_path: Path, tmpdir: Path) -> bytes:
    out = tmp_path / "clean.json"
    proc = _run(["scan", str(root), "--no-cache", "-q", "-o", str(out)], tmpdir)
    _check(proc)
    assert proc.returncode == 0
    return out.read_bytes()


def test_signals_at_random_points_then_rescan_equals_clean_scan(
    corpus: Path, tmp_path: Path, private_tmp: Path
) -> None:
    """SIGINT, SIGTERM and SIGKILL at random moments: no traceback, the documented code, no
    temp files after a catchable signal, inputs untouched, and a rescan with the half-filled
    cache gives exactly what a clean scan gives."""
    before = _snapshot(corpus)
    clean = _clean_export(corpus, tmp_path, private_tmp)
    cache = tmp_path / "cache"
    rng = random.Random(11)
    expected = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}
    # How long dedup takes to start and set its handlers here (the slowest of two runs of
    # `dedup --version`): a signal before then has Python's default effect, so the random
    # moments are counted from there, whatever the machine's load.
    ready = 0.0
    for _ in range(2):
        started = time.monotonic()
        subprocess.run([*DEDUP, "--version"], check=True, capture_output=True)
        ready = max(ready, time.monotonic() - started)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL):
        out = tmp_path / f"out-{sig.name}.json"
        env = {**os.environ, "TMPDIR": str(private_tmp), "DEDUP_CACHE_DIR": str(cache)}
        proc = subprocess.Popen(
            [*DEDUP, "scan", str(corpus), "-q", "-j", "2", "-o", str(out)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(ready + rng.uniform(0.3, 1.1))  # into the scan, after start-up
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        assert "Traceback" not in err, (sig, err)
        if proc.returncode == 0:
            continue  # it finished first: nothing to check but the rest
        if proc.returncode == -sig and out.exists() and out.read_bytes() == clean:
            continue  # the run had finished and written its export: the interpreter's exit restores the default action
        if sig == signal.SIGKILL:
            assert proc.returncode == -signal.SIGKILL
        else:
            assert proc.returncode == expected[sig], (sig, proc.returncode, err)
            assert _leftovers(private_tmp) == [], sig
            assert not out.exists() or out.read_bytes() == clean
        assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    again = tmp_path / "again.json"
    rescan = _run(["scan", str(corpus), "-q", "-o", str(again)], private_tmp, cache)
    _check(rescan)
    assert again.read_bytes() == clean
    assert _leftovers(private_tmp) == [], "a later run clears what a killed run left"
    assert _snapshot(corpus) == before


@pytest.mark.slow
def test_concurrent_scans_on_one_cache_equal_a_clean_scan(corpus: Path, tmp_path: Path, private_tmp: Path) -> None:
    clean = _clean_export(corpus, tmp_path, private_tmp)
    cache = tmp_path / "cache"
    env = {**os.environ, "TMPDIR": str(private_tmp), "DEDUP_CACHE_DIR": str(cache)}
    for round_ in range(2):  # a cold cache, then a warm one
        outs = [tmp_path / f"c{round_}-{i}.json" for i in range(3)]
        procs = [
            subprocess.Popen(
                [*DEDUP, "scan", str(corpus), "-q", "-j", "1", "-o", str(o)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for o in outs
        ]
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert "Traceback" not in err, err
            assert p.returncode == 0, err
        assert [o.read_bytes() == clean for o in outs] == [True] * 3


@contextlib.contextmanager
def _tiny_filesystem(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_output_on_a_full_filesystem_is_one_error_and_no_partial_file(
    corpus: Path, tmp_path: Path, private_tmp: Path
) -> None:
    with _tiny_filesystem(tmp_path / "small", "64k") as small:
        with open(small / "filler", "wb", buffering=0) as filler, contextlib.suppress(OSError):  # fill it up
            while True:
                filler.write(b"x" * 512)
        for flag in ("-o", "--keep-list"):
            target = small / ("out.json" if flag == "-o" else "keep.txt")
            proc = _run(["scan", str(corpus), "-q", flag, str(target)], private_tmp)
            _check(proc)
            assert proc.returncode == 2, proc.stderr
            assert not target.exists()
            assert sorted(p.name for p in small.iterdir()) == ["filler"]


def test_temp_folder_on_a_full_filesystem_is_one_error(corpus: Path, tmp_path: Path) -> None:
    """Spill files go to $TMPDIR: when it is full the run stops with one line, or finishes
    correctly if it did not need the space; either way nothing is left there."""
    with _tiny_filesystem(tmp_path / "smalltmp", "16k") as small:
        out = tmp_path / "out.json"
        proc = _run(["scan", str(corpus), "-q", "-j", "2", "-o", str(out)], small)
        _check(proc)
        if proc.returncode == 0:
            assert out.read_bytes() == _clean_export(corpus, tmp_path, tmp_path)
        assert _leftovers(small) == []


STAGES = ("hashing", "comparing", "ranking copies")


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("fault", FAULTS)
def test_files_changed_between_stages(corpus: Path, fault: str, stage: str, jobs: int) -> None:
    """Files deleted, truncated, replaced by a FIFO or rewritten after the walk: the scan
    finishes, and no cluster keeps a member whose file no longer holds what was compared."""
    members = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix in (".txt", ".html", ".md"))
    victims = members[:: max(1, len(members) // 12)]
    saboteur = Saboteur(stage, fault, victims)
    result = scan([corpus], ScanConfig(jobs=jobs), progress=saboteur)
    assert saboteur.fired
    damaged = {str(v.relative_to(corpus)) for v in victims}
    for c in result.clusters:
        assert len(c.members) >= 2
        for m in c.members:
            if m.doc_id in damaged:
                # Only a file that still holds what was hashed may stay in a cluster.
                assert stage == "hashing" and fault == "rewrite", (fault, stage, m.doc_id)
    listed = {s.rel for s in result.skipped}
    if stage != "hashing" or fault != "rewrite":
        in_clusters = {m.doc_id for c in result.clusters for m in c.members}
        for v in damaged:
            assert v in listed or v not in in_clusters


def test_results_after_damage_match_a_clean_scan_of_the_damaged_tree(corpus: Path) -> None:
    """A file deleted before ranking gives the clusters of a scan of the tree without it."""
    members = sorted(p for p in corpus.rglob("*.txt"))
    victim = members[len(members) // 2]
    hurt = scan([corpus], ScanConfig(jobs=1), progress=Saboteur("ranking copies", "delete", [victim]))
    clean = scan([corpus], ScanConfig(jobs=1))
    rel = str(victim.relative_to(corpus))

    def groups(r: ScanResult) -> list[tuple[str, ...]]:
        return [tuple(m.doc_id for m in c.members) for c in r.clusters]

    assert rel not in {m for g in groups(hurt) for m in g}
    # Every cluster of the damaged run is a cluster of the clean run, or one without the victim.
    clean_sets = {frozenset(set(g) - {rel}) for g in groups(clean)}
    for g in groups(hurt):
        assert frozenset(g) in clean_sets


def test_special_files_and_outputs_are_never_replaced(corpus: Path, tmp_path: Path, private_tmp: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    proc = _run(
        ["scan", str(corpus), "-q", "--drop-list", str(fifo), "-o", "/dev/null", "--format", "json"], private_tmp
    )
    out, _ = reader.communicate(timeout=60)
    received.append(out)
    _check(proc)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert received[0].strip(), "the list went through the FIFO"


def test_output_that_is_an_input_is_refused(corpus: Path, private_tmp: Path) -> None:
    before = _snapshot(corpus)
    victim = next(p for p in sorted(corpus.rglob("*.txt")))
    for flag in ("-o", "--keep-list", "--drop-list"):
        target = victim if flag != "-o" else victim.with_suffix(".json")
        if flag == "-o":
            shutil.copy(victim, target)
            before = _snapshot(corpus)
        proc = _run(["scan", str(corpus), "-q", flag, str(target)], private_tmp)
        _check(proc)
        assert proc.returncode == 2, (flag, proc.stderr)
        assert _snapshot(corpus) == before


def test_json_export_is_the_same_from_every_path(corpus: Path, tmp_path: Path, private_tmp: Path) -> None:
    """-j 1, -j 2, with a cold and a warm cache: one byte-identical export."""
    clean = _clean_export(corpus, tmp_path, private_tmp)
    cache = tmp_path / "cache"
    for args in (["-j", "1"], ["-j", "2"], ["-j", "2"]):
        out = tmp_path / "o.json"
        proc = _run(["scan", str(corpus), "-q", "-o", str(out), *args], private_tmp, cache)
        _check(proc)
        assert out.read_bytes() == clean
    assert json.loads(clean)["summary"]["documents"] > 100


_NAME_BYTES = st.binary(min_size=1, max_size=24).filter(
    lambda b: b"/" not in b and b"\x00" not in b and b not in (b".", b"..")
)


@settings(max_examples=25)
@given(names=st.lists(_NAME_BYTES, min_size=2, max_size=5, unique=True))
def test_any_file_names_scan_alike_with_and_without_cache(names: list[bytes]) -> None:
    """File names of random bytes (not valid UTF-8, newlines, escapes, controls): a scan with
    the cache, a rescan from it and a scan without it give the same clusters, and the NUL list
    names each dropped file by its exact bytes."""
    import tempfile

    text = (SAMPLES_TEXT * 2).encode()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "docs"
        os.makedirs(os.fsencode(root))
        for name in names:
            if name.startswith(b"."):
                name = b"x" + name
            with open(os.path.join(os.fsencode(root), name), "wb") as f:
                f.write(text)
        cache = Path(tmp) / "cache.sqlite"
        with_cache = scan([root], ScanConfig(jobs=1), cache=cache)
        again = scan([root], ScanConfig(jobs=1), cache=cache)
        without = scan([root], ScanConfig(jobs=1))

        def shape(r: ScanResult) -> list[list[str]]:
            return [[m.doc_id for m in c.members] for c in r.clusters]

        assert shape(with_cache) == shape(again) == shape(without)
        assert len(without.clusters) == 1
        proc = subprocess.run(
            [*DEDUP, "scan", str(root), "-q", "--no-cache", "-0", "--drop-list", "-"],
            capture_output=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        dropped = [x for x in proc.stdout.split(b"\x00") if x]
        on_disk = set(os.listdir(os.fsencode(root)))
        assert len(dropped) == len(on_disk) - 1
        for item in dropped:
            assert os.path.basename(item) in on_disk
