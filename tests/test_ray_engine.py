"""The Ray engine (dedup/engine_ray.py) on a local Ray with 2 CPUs: order, progress, failures,
and a worker killed mid-run (tests/test_ray_missing.py: installs without Ray)."""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dedup.engine import make_engine
from dedup.errors import WorkerError

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'dedup[ray]')")


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    """One local Ray with 2 CPUs for the module (engines join it), shut down after it."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=256 << 20)
    # The batch functions below live in this test module, which Ray's workers cannot import.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield
    ray.shutdown()


def square_all(batch: list[int]) -> list[int]:
    return [x * x for x in batch]


def fail_on_seven(batch: list[int]) -> list[int]:
    if 7 in batch:
        raise ValueError("seven is\nnot welcome")
    return batch


def kill_once(marker: str, batch: list[int]) -> tuple[int, list[int]]:
    """Kill this worker process (SIGKILL, as the OOM killer does) the first time any batch
    runs, guarded by a marker file, then work normally."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return os.getpid(), [x + 1 for x in batch]
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


def test_results_come_in_batch_order_and_progress_counts_every_item() -> None:
    batches = [list(range(i, i + (i % 5) + 1)) for i in range(40)]
    seen: list[int] = []
    with make_engine("ray", 2) as engine:
        assert engine.name == "ray" and engine.jobs == 2
        got = list(engine.map(square_all, batches, progress=seen.append))
    assert got == [square_all(b) for b in batches]
    assert sorted(seen) == sorted(len(b) for b in batches)
    assert ray.is_initialized()  # an engine that joined a running Ray leaves it running


def test_a_failing_batch_is_one_worker_error_line() -> None:
    with make_engine("ray", 2) as engine, pytest.raises(WorkerError) as caught:
        list(engine.map(fail_on_seven, [[1], [2, 7], [3]]))
    assert str(caught.value) == "a batch failed: ValueError: seven is"


def test_a_killed_worker_is_retried_and_the_result_is_unchanged(tmp_path: Path) -> None:
    marker = tmp_path / "killed"
    batches = [[i, i + 1] for i in range(12)]
    with make_engine("ray", 2) as engine:
        got = list(engine.map(functools.partial(kill_once, str(marker)), batches))
    killed_pid = int(marker.read_text())
    assert [values for _, values in got] == [[x + 1 for x in b] for b in batches]
    assert killed_pid not in {pid for pid, _ in got}  # every result came from a live worker


def test_a_worker_killed_with_no_retries_left_is_a_worker_error(tmp_path: Path) -> None:
    marker = tmp_path / "killed"
    with make_engine("ray", 2, max_retries=0) as engine, pytest.raises(WorkerError) as caught:
        list(engine.map(functools.partial(kill_once, str(marker)), [[1], [2]]))
    assert marker.exists()
    assert str(caught.value).startswith("a Ray worker stopped without finishing its batch: ")
    assert "\n" not in str(caught.value)
