"""workers.Pool: real worker processes and pipes; results in order, errors and deaths reported."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dedup import workers
from dedup.config import ScanConfig
from dedup.errors import DedupError, WorkerError
from dedup.records import Document, Skipped, SourceFile


def _slow_square(x: int) -> int:
    time.sleep(random.Random(x).random() * 0.004)  # finish out of order
    return x * x


def _negate(x: int) -> int:
    return -x


def _echo(data: bytes) -> bytes:
    return data[::-1]


def _fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError(f"bad item {x}")
    return x


def _die_on_five(x: int) -> int:
    if x == 5:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def _pid(_: object) -> int:
    return os.getpid()


@pytest.fixture
def pool() -> Iterator[workers.Pool]:
    p = workers.Pool(2)
    yield p
    p.close()


@pytest.mark.parametrize(("jobs", "ahead"), [(1, 1), (2, 2), (3, 4)])
def test_results_come_in_task_order(jobs: int, ahead: int) -> None:
    p = workers.Pool(jobs)
    try:
        assert list(p.map(_slow_square, range(60), ahead=ahead)) == [x * x for x in range(60)]
        assert len(set(p.map(_pid, range(40)))) == jobs  # the tasks really went to every worker
    finally:
        p.close()


def test_one_map_after_another_uses_each_ones_function(pool: workers.Pool) -> None:
    # A worker keeps the last function it was sent; a new map must replace it.
    assert list(pool.map(_slow_square, range(10))) == [x * x for x in range(10)]
    assert list(pool.map(_negate, range(10))) == [-x for x in range(10)]
    assert list(pool.map(_slow_square, range(3))) == [0, 1, 4]
    assert list(pool.map(_negate, [])) == []


def test_tasks_and_results_larger_than_a_pipe_do_not_block(pool: workers.Pool) -> None:
    # Several megabytes each way, with tasks written while the workers are still sending.
    items = [random.Random(i).randbytes(3_000_000 + i) for i in range(8)]
    assert list(pool.map(_echo, items)) == [x[::-1] for x in items]


def test_an_exception_in_a_worker_is_raised_in_order_with_its_traceback(pool: workers.Pool) -> None:
    seen = []
    with pytest.raises(ValueError, match="bad item 3") as info:
        for x in pool.map(_fail_on_three, range(10)):
            seen.append(x)
    assert seen == [0, 1, 2]  # every result before the failing task, none after
    assert isinstance(info.value.__cause__, workers.RemoteTraceback)
    assert "_fail_on_three" in str(info.value.__cause__)
    assert list(pool.map(_negate, range(5))) == [0, -1, -2, -3, -4]  # the pool goes on


def test_a_map_left_early_does_not_leak_results_into_the_next(pool: workers.Pool) -> None:
    for x in pool.map(_slow_square, range(50)):
        if x == 4:
            break
    assert list(pool.map(_negate, range(20))) == [-x for x in range(20)]


def test_a_killed_worker_stops_the_run_with_a_clear_error(pool: workers.Pool) -> None:
    with pytest.raises(WorkerError, match=r"^a worker process stopped unexpectedly \(killed by SIGKILL"):
        list(pool.map(_die_on_five, range(20)))
    assert issubclass(WorkerError, DedupError)  # the CLI's one-line "Error: ..."
    assert list(pool.map(_negate, range(5))) == [0, -1, -2, -3, -4]  # new workers take over


def test_workers_leave_ctrl_c_to_the_run(pool: workers.Pool) -> None:
    pool.start()
    pids = set(pool.map(_pid, range(8)))
    for pid in pids:
        os.kill(pid, signal.SIGINT)
    assert set(pool.map(_pid, range(8))) == pids  # the same workers, still serving


def test_close_stops_every_worker_and_a_new_map_starts_them_again() -> None:
    p = workers.Pool(2)
    first = set(p.map(_pid, range(8)))
    p.close()
    for pid in first:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # joined: gone, not a zombie
    try:
        second = set(p.map(_pid, range(8)))
        assert len(second) == 2
        assert not second & first
    finally:
        p.close()


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork", reason="the patch reaches forked workers only")
def test_scan_with_a_killed_worker_ends_with_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from dedup import extract
    from dedup.cli import main

    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(600):  # more than one task's files, so the scan uses its workers
        (folder / f"{i:04d}.txt").write_text(f"document {i} " + "words " * 50, encoding="utf-8")
    real = extract.extract

    def extract_or_die(source: SourceFile, config: ScanConfig) -> Iterator[Document | Skipped]:
        if source.path.endswith("0300.txt"):  # the forked workers run this patched module
            os.kill(os.getpid(), signal.SIGKILL)
        return real(source, config)

    monkeypatch.setattr(extract, "extract", extract_or_die)
    result = CliRunner().invoke(main, ["scan", str(folder), "--jobs", "2", "--no-cache", "-q"])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        "Error: a worker process stopped unexpectedly (killed by SIGKILL: the system may have run out of memory;"
        " try fewer --jobs)"
    ]
    assert result.exception is not None and not isinstance(result.exception, WorkerError)  # handled: SystemExit
    assert (
        sorted(p.name for p in folder.iterdir())[:2] == ["0000.txt", "0001.txt"] and len(list(folder.iterdir())) == 600
    )


def test_close_during_a_map_does_not_wait_for_results_nobody_reads(pool: workers.Pool) -> None:
    # As on Ctrl-C: the run stops reading while workers still have 3 MB results to send.
    items = [bytes(3_000_000) for _ in range(8)]
    results = pool.map(_echo, items)
    next(results)
    pool.close()  # would hang if it waited for the workers to finish sending
    assert list(pool.map(_negate, range(4))) == [0, -1, -2, -3]
    del results  # the abandoned map, closed now, must leave the new workers alone
    assert list(pool.map(_negate, range(4))) == [0, -1, -2, -3]


def test_two_maps_at_once_are_refused(pool: workers.Pool) -> None:
    first = pool.map(_negate, range(20))
    assert next(first) == 0
    with pytest.raises(RuntimeError, match="earlier map"):
        next(pool.map(_negate, range(3)))
    assert list(first) == [-x for x in range(1, 20)]


def test_workers_end_when_the_run_is_killed(tmp_path: Path) -> None:
    # kill -9 of the run (or its crash): nothing will send tasks any more, and its workers
    # must not live on as orphans.
    import subprocess
    import sys

    code = (
        "import sys, time\n"
        "from dedup import workers\n"
        "pool = workers.Pool(2)\n"
        "pool.start()\n"
        "print(*pool.pids, flush=True)\n"
        "time.sleep(60)\n"
    )
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as run:
        assert run.stdout is not None
        pids = [int(p) for p in run.stdout.readline().split()]
        run.kill()
    assert len(pids) == 2

    def alive(pid: int) -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return False
        return state not in ("Z", "X")  # a zombie has ended; its new parent may not reap it

    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if alive(p)]
