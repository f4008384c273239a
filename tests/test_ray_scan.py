"""`dedup scan --engine ray` gives the local engine's exports byte for byte: on the samples, the
synthetic corpus, a 20,000-document corpus (slow), with bad files among the inputs, and with a
Ray worker killed mid-run. A local Ray with 2 CPUs is started once for the module."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import child_pids, started_ray

from dedup import ScanResult, __version__, export, scan
from dedup.cli import main
from dedup.config import ScanConfig
from dedup.corpus import generate

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'dedup[ray]')")

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
EXPORTS = ("clusters.json", "clusters.jsonl", "clusters.csv", "clusters.parquet", "keep.txt", "drop.txt")

#: Files a hashing task takes (pipeline.FILES_PER_TASK): a folder with more goes to the engine.
FILES_PER_TASK = 256


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    """One local Ray with 2 CPUs for the module (each scan's engine joins it), shut down after it."""
    with started_ray(512):
        yield


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus") / "c"
    generate(root, seed=0)
    return root


def exports(result: ScanResult, out: Path) -> dict[str, bytes]:
    """Every export of a scan (the formats ``--output`` writes, and the keep and drop lists), by name."""
    out.mkdir()
    for name in EXPORTS[:-2]:
        export.write_export(result, out / name, version=__version__)
    export.write_lists(result, out / "keep.txt", out / "drop.txt")
    return {name: (out / name).read_bytes() for name in EXPORTS}


def same_exports(root: Path, tmp_path: Path) -> dict[str, bytes]:
    """The local and Ray engines' exports of ``root``, asserted equal; the local ones returned."""
    config = ScanConfig(jobs=2)
    local = exports(scan(root, config), tmp_path / "local")
    assert exports(scan(root, config, engine_name="ray"), tmp_path / "ray") == local
    return local


def cli_export(root: Path, out: Path, *args: str) -> bytes:
    """The JSON export of `dedup scan ROOT -j 2 ARGS`, run through the CLI."""
    result = CliRunner().invoke(
        main, ["scan", str(root), "-q", "-j", "2", "--no-cache", *args, "--output", str(out)], catch_exceptions=False
    )
    assert (result.exit_code, result.output) == (0, "")
    return out.read_bytes()


def ray_scan_command(root: Path, out: Path) -> list[str]:
    """`dedup scan` of `root` on a Ray of its own, two CPUs, no cache, the JSON export to `out`."""
    return [sys.executable, "-m", "dedup", "scan", str(root), "-q", "-j", "2", "--no-cache",
            "--engine", "ray", "--output", str(out)]  # fmt: skip


def n_files(root: Path) -> int:
    return sum(1 for p in root.rglob("*") if p.is_file())


def test_samples_give_the_same_exports(tmp_path: Path) -> None:
    local = same_exports(SAMPLES, tmp_path)
    assert b"000_8bcd120cc8060ff3.txt" in local["keep.txt"]


def test_the_synthetic_corpus_gives_the_same_exports(corpus: Path, tmp_path: Path) -> None:
    assert n_files(corpus) > FILES_PER_TASK  # so hashing goes to the engine, not in process
    local = same_exports(corpus, tmp_path)
    assert local["drop.txt"].count(b"\n") > 100


def test_the_command_line_engine_option_gives_the_same_export(corpus: Path, tmp_path: Path) -> None:
    local = cli_export(corpus, tmp_path / "local.json")
    assert cli_export(corpus, tmp_path / "ray.json", "--engine", "ray") == local


@pytest.mark.slow
def test_the_command_with_its_own_ray_gives_the_same_export(corpus: Path, tmp_path: Path) -> None:
    """`dedup scan --engine ray` as a user runs it: a Ray of its own, started and stopped by the
    scan (whose workers leave shingle hashes in the run's spill folder), not the module's."""
    local = cli_export(corpus, tmp_path / "local.json")
    out = tmp_path / "ray.json"
    done = subprocess.run(
        ray_scan_command(corpus, out),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (done.returncode, done.stdout) == (0, ""), done.stderr
    assert out.read_bytes() == local


def test_bad_files_are_skips_with_their_reason(corpus: Path, tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    for path in sorted(corpus.rglob("*")):
        if path.is_file():
            target = root / path.relative_to(corpus)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    (root / "zz_binary.txt").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8)
    (root / "zz_empty.txt").write_bytes(b"")
    (root / "zz_records.jsonl").write_text('{"id": "a", "text": "one good record of a few words"}\nnot json\n')
    local = same_exports(root, tmp_path)
    assert b'"zz_binary.txt"' in local["clusters.json"]
    result = scan(root, ScanConfig(jobs=2), engine_name="ray")
    reasons = {s.rel: s.reason.value for s in result.skipped}
    assert reasons["zz_binary.txt"] == "binary"
    assert reasons["zz_empty.txt"] == "empty"
    assert reasons["zz_records.jsonl:2"] == "bad-record"


def ray_raylet_pid() -> int:
    """The pid of this Ray's raylet: the parent of its worker processes."""

    def parent() -> int:
        return os.getppid()

    return int(ray.get(ray.remote(parent).remote()))


def running_task_workers(raylet: int) -> list[int]:
    """This Ray's worker processes that are running a batch (Ray titles them ``ray::_call``)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == raylet and cmdline.startswith(b"ray::_call"):
            found.append(int(entry))
    return found


class KillOneWorker:
    """A progress hook that, once hashing has begun, SIGKILLs one Ray worker busy with a batch."""

    def __init__(self, raylet: int) -> None:
        self.raylet = raylet
        self.stage = ""
        self.killed: list[int] = []

    def start(self, stage: str, total: int | None) -> None:
        self.stage = stage

    def advance(self, n: int = 1) -> None:
        if self.stage != "hashing" or self.killed:
            return
        busy = running_task_workers(self.raylet)
        if busy:
            os.kill(busy[0], signal.SIGKILL)
            self.killed.append(busy[0])


@pytest.mark.slow
def test_a_worker_killed_mid_scan_is_retried_and_the_result_is_unchanged(tmp_path: Path) -> None:
    root = tmp_path / "c"
    generate(root, seed=1, articles=400)
    assert n_files(root) > 4 * FILES_PER_TASK
    config = ScanConfig(jobs=2)
    local = scan(root, config)
    killer = KillOneWorker(ray_raylet_pid())
    on_ray = scan(root, config, progress=killer, engine_name="ray")
    assert killer.killed, "no Ray worker was running a batch while hashing"
    assert on_ray.clusters == local.clusters
    assert on_ray.skipped == local.skipped
    assert on_ray.summary == local.summary


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_while_ray_works_stops_the_run_cleanly(tmp_path: Path, sig: signal.Signals, code: int) -> None:
    """Ray installs its own signal handlers and wraps exceptions raised while it waits: the
    run must still stop with 128 + the signal, one Error line, no traceback, no export, and
    the Ray it started shut down."""
    root = tmp_path / "c"
    generate(root, seed=1, articles=400)
    out = tmp_path / "out.json"
    proc = subprocess.Popen(
        ray_scan_command(root, out),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    raylets: list[int] = []
    while time.monotonic() < deadline and proc.poll() is None:
        raylets = [c for c in child_pids(proc.pid) if Path(f"/proc/{c}/comm").read_text().strip() == "raylet"]
        if raylets and running_task_workers(raylets[0]):
            break
        time.sleep(0.2)
    assert raylets and proc.poll() is None, "the scan ended before its Ray workers were busy"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert (proc.returncode, err) == (code, f"Error: stopped by {sig.name}\n")
    assert not out.exists()
    assert not Path(f"/proc/{raylets[0]}").exists()


@pytest.mark.slow
def test_a_20000_document_corpus_gives_the_same_exports(tmp_path: Path) -> None:
    root = tmp_path / "c"
    stats = generate(root, seed=0, articles=3900)
    assert stats.documents >= 20_000
    same_exports(root, tmp_path)
