"""dedup.engine: the local engine over real worker processes; order, progress, failures, names."""

from __future__ import annotations

import os
import random
import signal
import time

import pytest

from dedup import engine
from dedup.errors import ConfigError, WorkerError


def _slow_sum(batch: list[int]) -> int:
    time.sleep(random.Random(sum(batch)).random() * 0.004)  # finish out of order
    return sum(batch)


def _pid(_: object) -> int:
    return os.getpid()


def _fail_on_three(batch: list[int]) -> int:
    if 3 in batch:
        raise ValueError("bad batch")
    return len(batch)


def _die_on_five(batch: list[int]) -> int:
    if 5 in batch:
        os.kill(os.getpid(), signal.SIGKILL)
    return len(batch)


BATCHES = [list(range(i, i + i % 4)) for i in range(40)]


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_results_in_batch_order_and_progress_counts_items(jobs: int) -> None:
    seen: list[int] = []
    with engine.make_engine("local", jobs) as eng:
        assert (eng.name, eng.jobs) == ("local", jobs)
        got = list(eng.map(_slow_sum, BATCHES, progress=seen.append))
    assert got == [sum(b) for b in BATCHES]
    assert seen == [len(b) for b in BATCHES]  # one call per result, in order, its batch's items


def test_jobs_above_one_use_worker_processes_and_one_stays_here() -> None:
    with engine.LocalEngine(2) as eng:
        pids = set(eng.map(_pid, [[i] for i in range(20)]))
    assert os.getpid() not in pids and len(pids) == 2
    with engine.LocalEngine(1) as eng:
        assert set(eng.map(_pid, [[i] for i in range(5)])) == {os.getpid()}


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failing_batch_is_a_worker_error_and_the_engine_stays_usable(jobs: int) -> None:
    with engine.LocalEngine(jobs) as eng:
        with pytest.raises(WorkerError, match=r"^a batch failed: ValueError: bad batch$"):
            list(eng.map(_fail_on_three, [[1], [2], [3], [4]]))
        assert list(eng.map(_slow_sum, [[1, 2], [3]])) == [3, 3]


def test_a_killed_worker_is_a_worker_error() -> None:
    with engine.LocalEngine(2) as eng, pytest.raises(WorkerError, match=r"killed by SIGKILL"):
        list(eng.map(_die_on_five, [[i] for i in range(10)]))


def test_close_is_idempotent_and_a_later_map_starts_again() -> None:
    eng = engine.LocalEngine(2)
    assert isinstance(eng, engine.Startable)
    eng.start()
    eng.close()
    eng.close()
    assert list(eng.map(_slow_sum, [[1], [2, 3]])) == [1, 5]
    eng.close()


def test_unknown_engine_and_bad_jobs_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown engine 'spark'"):
        engine.make_engine("spark", 2)
    with pytest.raises(ConfigError, match="jobs must be at least 1"):
        engine.make_engine("local", 0)


def test_batch_items() -> None:
    assert engine.batch_items([1, 2, 3]) == 3
    assert engine.batch_items(x for x in ()) == 1
