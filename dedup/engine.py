"""Engines: what runs the parallel part of a stage (one function over batches).

A stage that has parallel work (hashing files, ranking groups) hands a module-level
function and its batches to an engine and reads the results back in batch order; it never
knows which engine runs it. ``LocalEngine`` runs them in this machine's worker processes
(``workers.Pool``), or in this process when ``jobs`` is 1; a Ray engine runs them on a
cluster (``make_engine("ray", ...)``, imported only when asked for).

Example:
    >>> with make_engine("local", 1) as engine:
    ...     list(engine.map(len, [[1, 2], [3]]))
    [2, 1]
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from .errors import ConfigError, WorkerError
from .records import Match
from .workers import Pool

if TYPE_CHECKING:  # the stages' types, for the hooks an engine may offer
    import numpy as np
    from numpy.typing import NDArray

    from .candidates import Anchors
    from .cluster import SplitMany
    from .config import ScanConfig
    from .kept import KeptPairs
    from .progress import Progress
    from .records import DocTable
    from .sets import ShingleSets
    from .signature import Signatures
    from .verify import Layouts

T = TypeVar("T")
R = TypeVar("R")

#: The engines ``make_engine`` knows, by name.
ENGINES = ("local", "ray")


class Engine(Protocol):
    """Runs the parallel part of a stage: one function over batches, results in input order."""

    name: str  # "local" or "ray"
    jobs: int  # the parallelism it offers (cores / CPUs)

    def map(
        self, fn: Callable[[T], R], batches: Iterable[T], *, progress: Callable[[int], None] | None = None
    ) -> Iterator[R]:
        """``fn`` (module-level, picklable) over ``batches``, results in the order of
        ``batches``; ``progress(n)`` as each result arrives (``n``: ``batch_items`` of its
        batch). A failure in ``fn`` raises ``errors.WorkerError`` here."""
        ...

    def close(self) -> None:
        """Release the engine's workers; idempotent."""
        ...

    def __enter__(self) -> Engine: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


@runtime_checkable
class Startable(Protocol):
    """An engine that can start its workers ahead of the first map (``LocalEngine``):
    forked workers are charged with a copy of the run's page tables, so a big run starts
    them while it is still small."""

    def start(self, most: int | None = None) -> None: ...


@runtime_checkable
class Components(Protocol):
    """An engine that finds the connected components of the verified matches itself (the Ray
    engine, on its workers); the scan's clustering asks it instead of the local union-find.
    Same contract as ``cluster.components``: groups of two or more, sorted, by first member."""

    def components(
        self, n_docs: int, matches: Sequence[Match], progress: Progress | None = None
    ) -> list[tuple[int, ...]]: ...  # progress: a bar for its rounds


@runtime_checkable
class FindsPairs(Protocol):
    """An engine that runs the candidate and verify stages on its workers (the Ray engine:
    banding and anchors as shuffles by key, the exact measure in tasks); same contracts as
    ``candidates.candidate_pairs`` and ``verify.verify``, same results. Its pairs may stay on
    its workers (``kept.KeptPairs``), for its own ``verify`` to read there."""

    def candidate_pairs(
        self, sigs: Signatures, anchors: Anchors, sizes: NDArray[np.int64], config: ScanConfig,
        progress: Progress | None = None,
    ) -> NDArray[np.int64] | KeptPairs: ...  # fmt: skip

    def verify(
        self, pairs: NDArray[np.int64] | KeptPairs, shingles: ShingleSets, config: ScanConfig,
        text_of: Layouts | None, progress: Callable[[int], None] | None = None,
    ) -> list[Match]: ...  # fmt: skip


@runtime_checkable
class SplitsStars(Protocol):
    """An engine that splits the components into stars in its tasks (the Ray engine); its
    splitter is ``cluster.Exact.many``, or None when its tasks cannot read the run's sets."""

    def star_splitter(self, shingles: ShingleSets, infos: DocTable, config: ScanConfig) -> SplitMany | None: ...


def batch_items(batch: object) -> int:
    """How many items a batch counts for in progress: its length, or 1 if it has none."""
    return len(batch) if isinstance(batch, Sized) else 1


class LocalEngine:
    """The worker processes of this machine (``workers.Pool``); ``jobs == 1`` runs in process.

    ``ahead`` bounds the batches out per worker (finished results wait in memory only that
    far behind a slower, earlier one).
    """

    name = "local"
    #: Its workers write files this process can read (the hashing stage leaves shingle
    #: hashes in the run's spill folder instead of sending them through a pipe).
    same_machine = True

    def __init__(self, jobs: int, *, ahead: int = 2) -> None:
        if jobs < 1:
            raise ConfigError("jobs must be at least 1")
        self.jobs = jobs
        self.ahead = ahead
        self._pool: Pool | None = Pool(jobs) if jobs > 1 else None

    @property
    def parallel(self) -> bool:
        """True when batches run in worker processes."""
        return self._pool is not None

    def start(self, most: int | None = None) -> None:
        """Start the worker processes now, at most ``most`` (the tasks there are) of them
        (a no-op in process, or when started); a map starts more only when it has work for them."""
        if self._pool is not None:
            self._pool.start(most)

    def map(
        self, fn: Callable[[T], R], batches: Iterable[T], *, progress: Callable[[int], None] | None = None
    ) -> Iterator[R]:
        """``fn`` over ``batches``, results in order (see ``Engine.map``)."""
        if self._pool is None:
            return _here(fn, batches, progress)
        return _counted(self._pool, fn, batches, progress, self.ahead)

    def close(self) -> None:
        """Stop the worker processes (a later map starts new ones)."""
        if self._pool is not None:
            self._pool.close()

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _here(fn: Callable[[T], R], batches: Iterable[T], progress: Callable[[int], None] | None) -> Iterator[R]:
    """The in-process map: an exception of ``fn`` is a WorkerError, as from a worker."""
    for batch in batches:
        try:
            result = fn(batch)
        except Exception as exc:
            raise WorkerError(_failure(exc)) from exc
        if progress is not None:
            progress(batch_items(batch))
        yield result


def _counted(
    pool: Pool, fn: Callable[[T], R], batches: Iterable[T], progress: Callable[[int], None] | None, ahead: int
) -> Iterator[R]:
    """The pool's map, with each batch's size noted as it is handed out for ``progress``."""
    sizes: list[int] = []

    def noted() -> Iterator[T]:
        for batch in batches:
            sizes.append(batch_items(batch))
            yield batch

    results = pool.map(fn, noted(), ahead)
    done = 0
    while True:
        try:
            result = next(results)
        except StopIteration:
            return
        except WorkerError:
            raise
        except Exception as exc:
            raise WorkerError(_failure(exc)) from exc
        if progress is not None:
            progress(sizes[done])
        done += 1
        yield result


def _failure(exc: BaseException) -> str:
    """A failed batch as one line."""
    text = " ".join(str(exc).split())
    return f"a batch failed: {type(exc).__name__}: {text}" if text else f"a batch failed: {type(exc).__name__}"


def make_engine(name: str, jobs: int, **options: Any) -> Engine:
    """The engine called ``name`` with ``jobs`` parallelism.

    Args:
        name: "local" (this machine's worker processes) or "ray" (imports ray lazily).
        jobs: worker processes / CPUs; at least 1.
        options: engine-specific settings (``ahead`` for local; address etc. for ray).

    Raises:
        ConfigError: an unknown engine name.
    """
    if name == "local":
        return LocalEngine(jobs, **options)
    if name == "ray":
        module = importlib.import_module(".engine_ray", __package__)
        engine: Engine = module.make_ray_engine(jobs, **options)
        return engine
    raise ConfigError(f"unknown engine {name!r}: choose one of {', '.join(ENGINES)}")
