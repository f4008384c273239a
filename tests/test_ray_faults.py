"""A Ray worker killed (SIGKILL) while it runs a task of the candidate, verify or components
stage is retried by Ray and the scan's result is unchanged. A watcher thread kills the first
worker of this Ray whose title names one of the stage's task functions (Ray titles a busy
worker ``ray::<function>``). A local Ray with 2 CPUs for the module."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import started_ray

from dedup import ScanResult, scan
from dedup.config import ScanConfig
from dedup.corpus import generate

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'dedup[ray]')")

#: The task functions of each stage, as Ray titles the worker running one.
STAGES = {
    "candidates": ("band_rows", "band_bucket_pairs", "anchor_rows", "anchor_group_pairs", "anchor_pair_counts"),
    "verify": ("measure",),
    "components": ("scatter_edges", "build_partition", "propose", "absorb"),
}


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    with started_ray(512):
        yield


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus") / "c"
    generate(root, seed=1, articles=400)
    return root


@pytest.fixture(scope="module")
def local(corpus: Path) -> ScanResult:
    return scan(corpus, ScanConfig(jobs=2))


class Killer(threading.Thread):
    """Kills the first worker of the raylet ``raylet`` that runs one of ``names``, once."""

    def __init__(self, raylet: int, names: tuple[str, ...]) -> None:
        super().__init__(daemon=True)
        self.raylet = raylet
        self.titles = tuple(f"ray::{n}\0".encode() for n in names)
        self.killed: list[str] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set() and not self.killed:
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    title = Path(f"/proc/{entry}/cmdline").read_bytes()
                    ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                if ppid == self.raylet and title.startswith(self.titles):
                    os.kill(int(entry), signal.SIGKILL)
                    self.killed.append(title.split(b"\0")[0].decode())
                    return


def raylet_pid() -> int:
    def parent() -> int:
        return os.getppid()

    return int(ray.get(ray.remote(parent).remote()))


@pytest.mark.slow
@pytest.mark.parametrize("stage", sorted(STAGES))
def test_a_worker_killed_in_a_ray_stage_is_retried_and_the_result_is_unchanged(
    stage: str, corpus: Path, local: ScanResult
) -> None:
    killer = Killer(raylet_pid(), STAGES[stage])
    killer.start()
    try:
        on_ray = scan(corpus, ScanConfig(jobs=2), engine_name="ray")
    finally:
        killer.done.set()
        killer.join()
    assert killer.killed, f"no Ray worker was running a {stage} task"
    assert killer.killed[0].removeprefix("ray::") in STAGES[stage]
    assert on_ray.clusters == local.clusters
    assert on_ray.matches == local.matches
    assert on_ray.summary == local.summary
