"""The scan's worker pool against ``concurrent.futures.ProcessPoolExecutor``, in one run.

Both pools run the pipeline's own hashing tasks (``hashing.run_tasks``: 256 files a task,
read, extracted, shingled, signed, anchors selected, shingle hashes to a worker file) over
the same folder of generated files, in interleaved rounds with the one-process reference,
so that each meets the machine's slow spells as often as the others. It prints each run's
best and median wall time, the CPU the run's own process used (what it takes from the
workers' cores), and the speedups over one process.

The executor side is the scan's earlier pool: at most ``ahead`` tasks per worker out at
once, results taken in order.

Usage:
    python benchmarks/pool_vs_executor.py [--docs 20000] [--rounds 9] [--seed 0]
"""

from __future__ import annotations

import argparse
import collections
import itertools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import Generator, pipeline_tasks, run_in_one_process  # the benchmark's corpus and pipeline rows

from dedup import hashing
from dedup.engine import LocalEngine
from dedup.spill import SpillFolder


class ExecutorEngine:
    """An engine (``dedup.engine.Engine``) on ``ProcessPoolExecutor``: the scan's pool before
    ``workers.Pool``, at most ``ahead`` tasks per worker out at once, results in order."""

    name = "executor"
    same_machine = True  # its workers write the hashes to the spill folder, as the local engine's

    def __init__(self, jobs: int, ahead: int = 2) -> None:
        self.jobs, self.ahead = jobs, ahead
        self._executor: ProcessPoolExecutor | None = None

    def start(self) -> None:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(max_workers=self.jobs)
            for future in [self._executor.submit(os.getpid) for _ in range(self.jobs)]:
                future.result()

    def map(
        self, fn: Callable[[Any], Any], items: Iterable[Any], *, progress: Callable[[int], None] | None = None
    ) -> Iterator[Any]:
        self.start()
        assert self._executor is not None
        pending: collections.deque[Future[Any]] = collections.deque()
        todo = iter(items)
        for item in itertools.islice(todo, self.ahead * self.jobs):
            pending.append(self._executor.submit(fn, item))
        while pending:
            result = pending.popleft().result()
            following = next(todo, None)
            if following is not None:
                pending.append(self._executor.submit(fn, following))
            yield result

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown()
            self._executor = None

    def __enter__(self) -> ExecutorEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dedup-pool-ab-") as tmp:
        config, tasks = pipeline_tasks(Generator(args.seed).texts(args.docs), Path(tmp))

        def one() -> None:
            run_in_one_process(tasks, config)

        executor, pool, spill = ExecutorEngine(2), LocalEngine(2), SpillFolder()
        runs: dict[str, Callable[[], object]] = {
            "one process": one,
            "ProcessPoolExecutor, 2 workers": lambda: collections.deque(
                hashing.run_tasks(tasks, config, executor, spill), 0
            ),
            "workers.Pool, 2 workers": lambda: collections.deque(hashing.run_tasks(tasks, config, pool, spill), 0),
        }
        wall: dict[str, list[float]] = collections.defaultdict(list)
        cpu: dict[str, list[float]] = collections.defaultdict(list)
        try:
            executor.start()
            pool.start()
            for _ in range(args.rounds):
                for name, run in runs.items():
                    c0, t0 = time.process_time(), time.perf_counter()
                    run()
                    wall[name].append(time.perf_counter() - t0)
                    cpu[name].append(time.process_time() - c0)
        finally:
            executor.close()
            pool.close()
            spill.close()

    base = min(wall["one process"])
    print(f"{args.docs:,} files, {len(tasks)} tasks, {args.rounds} interleaved rounds, {os.cpu_count()} cores")
    print(f"{'run':32s} {'best s':>7s} {'median s':>9s} {'run-process CPU s':>18s} {'speedup (best)':>15s}")
    for name in runs:
        print(
            f"{name:32s} {min(wall[name]):7.3f} {statistics.median(wall[name]):9.3f} "
            f"{statistics.median(cpu[name]):18.3f} {base / min(wall[name]):14.2f}x"
        )
    for name in list(runs)[1:]:
        rounds = " ".join(f"{a / b:.2f}" for a, b in zip(wall["one process"], wall[name], strict=True))
        print(f"per-round speedup, {name}: {rounds}")


if __name__ == "__main__":
    main()
