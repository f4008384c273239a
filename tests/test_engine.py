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
    assert engine.batch_items(x for x in range(0)) == 1


def test_every_module_imports_alone_and_stages_import_no_engine() -> None:
    """No import cycle: each module of dedup/ imports first in a fresh interpreter (a cycle
    shows as an ImportError for a partly initialised module); and no stage module imports an
    engine (pipeline.py picks one)."""
    import ast
    import subprocess
    import sys
    from pathlib import Path

    import dedup

    root = Path(dedup.__file__).parent
    names = sorted(p.stem for p in root.glob("*.py") if p.stem not in ("__main__", "engine_ray"))
    code = "import importlib, sys\nfor n in sys.argv[1:]:\n    for m in [k for k in sys.modules if k.startswith('dedup')]:\n        del sys.modules[m]\n    importlib.import_module('dedup.' + n)\n"
    done = subprocess.run([sys.executable, "-c", code, *names], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    stages = ("read", "extract", "shingle", "signature", "candidates", "verify", "cluster", "cleanest", "evidence")
    for stage in stages:
        tree = ast.parse((root / f"{stage}.py").read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not imported & {"engine", "workers", "engine_ray", "pipeline"}, stage


def _import_graph() -> dict[str, set[str]]:
    """dedup module -> the dedup modules it imports, at any depth of its code (imports in
    functions too), leaving out ``if TYPE_CHECKING:`` blocks."""
    import ast
    from pathlib import Path

    import dedup

    graph: dict[str, set[str]] = {}
    for path in Path(dedup.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
                node.body = []
        deps: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                deps.update([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
        graph[path.stem] = deps
    return graph


def test_no_import_cycle_even_through_imports_in_functions() -> None:
    """A module imported inside a function to dodge a cycle is still a cycle (kernel.py and
    shingle.py were one): the import graph has none."""
    graph = _import_graph()
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            assert state.get(dep) != 1, " -> ".join([*path[path.index(dep) :], dep])
            if dep not in state:
                visit(dep, [*path, dep])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
