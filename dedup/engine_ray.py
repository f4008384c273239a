"""The Ray engine: a stage's batches as Ray tasks, on this machine or on a Ray cluster.

``make_engine("ray", jobs, address=...)`` builds it (``dedup scan --engine ray``). It is the
only module that imports ``ray``, and only when it is asked for: the default install and
the local engine never do. Each batch is one Ray task (``max_retries``: a worker process
that dies, killed or out of memory, has its task run again elsewhere, so the result is
unchanged); at most ``ahead`` tasks per CPU are out at once, and results are handed back
in batch order, so ids and clusters are those of the local engine.

The function and each batch travel through Ray's object store, so a batch function must be
module-level (picklable by reference) and its arguments plain data; the tasks import
``dedup`` on the workers, the compiled kernel with it.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from .engine import batch_items
from .errors import ConfigError, DedupError, Interrupted, WorkerError
from .extras import require
from .kept import KeptBatches, KeptPairs, as_array
from .records import Match

if TYPE_CHECKING:
    from .candidates import Anchors
    from .cluster import SplitMany
    from .config import ScanConfig
    from .progress import Progress
    from .records import DocTable
    from .sets import ShingleSets
    from .signature import Signatures
    from .verify import Layouts

T = TypeVar("T")
R = TypeVar("R")

#: Times Ray runs a task again after its worker process died (Ray's own default is 3).
MAX_RETRIES = 3


def import_ray() -> ModuleType:
    """``ray``, or a MissingExtra error that names the install command."""
    return require("ray", "ray", "--engine ray")


def _call(fn: Callable[[Any], Any], batch: Any) -> Any:
    """One batch in a Ray worker (a plain function; made a Ray task per engine)."""
    return fn(batch)


class RayUnreachable(DedupError):
    """A Ray could not be started here, or the cluster at ``--ray-address`` not reached."""


class RayEngine:
    """Batches as Ray tasks, results in batch order (see ``engine.Engine``).

    Joins the Ray already initialised in this process if there is one; otherwise starts
    or connects to one (``address``: None starts a local Ray with ``jobs`` CPUs, "auto" or
    "ray://host:port" connects to a cluster) and shuts it down at ``close``. A local Ray
    is started on first use, so a scan served whole from the cache never starts one.
    """

    name = "ray"

    def __init__(
        self,
        jobs: int,
        *,
        address: str | None = None,
        ahead: int = 2,
        max_retries: int = MAX_RETRIES,
        object_store_memory: int | None = None,
    ) -> None:
        if jobs < 1:
            raise ConfigError("jobs must be at least 1")
        self._ray = import_ray()
        self.jobs = jobs
        self.ahead = ahead
        self._address = address
        self._object_store_memory = object_store_memory
        self._max_retries = max_retries
        self._task: Any = None
        self._same_machine = False
        self._owned = False
        self._closed = False
        if address is not None:
            self._connect()  # a cluster's CPUs are its parallelism: known only once reached
            self.jobs = max(1, int(self._ray.cluster_resources().get("CPU", jobs)))

    def _connect(self) -> None:
        """Start or reach Ray (once) and make the task function."""
        if self._task is not None:
            return
        if self._closed:
            raise RuntimeError("RayEngine used after close")
        ray = self._ray
        if not ray.is_initialized():
            options: dict[str, Any] = {
                "include_dashboard": False,
                "logging_level": logging.ERROR,  # no "Started a local Ray instance" on stderr
                "log_to_driver": False,  # workers' own output stays in Ray's logs, off the report
            }
            if self._address is None:
                options["num_cpus"] = self.jobs
                if self._object_store_memory is not None:
                    options["object_store_memory"] = self._object_store_memory
            try:
                with _signals_kept(), _signals_through_ray():
                    ray.init(address=self._address, **options)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = self._address or "a new local instance"
                raise RayUnreachable(f"could not start or reach Ray at {where}: {_line(exc)}") from exc
            self._owned = True
        # Only a Ray this engine started: its workers end at ``close``, and with them their
        # open spill files; workers of a Ray that outlives the run would keep them open.
        self._same_machine = self._owned and _one_node_here(ray)
        self._task = ray.remote(num_cpus=1, max_retries=self._max_retries, retry_exceptions=False)(_call)

    @property
    def same_machine(self) -> bool:
        """Every worker runs on this machine, in a Ray this engine started, so a batch may
        leave its result in this machine's temporary files instead of sending it (the
        pipeline asks)."""
        self._connect()
        return self._same_machine

    def map(
        self, fn: Callable[[T], R], batches: Iterable[T], *, progress: Callable[[int], None] | None = None
    ) -> Iterator[R]:
        """``fn`` over ``batches`` as Ray tasks, results in order; ``progress`` as each
        task finishes, whatever its place (see ``Engine.map``)."""
        self._connect()
        return (value for value, _ in self._map(fn, batches, progress, 0))

    def map_keeping(
        self, fn: Callable[[T], tuple[Any, ...]], batches: Iterable[T], keep: int
    ) -> Iterator[tuple[Any, tuple[Any, ...]]]:
        """``fn`` over ``batches`` as Ray tasks of ``1 + keep`` returns, in order: the first
        return comes back, the others stay in the object store and come as ObjectRefs
        (``kept.KeepsArrays``; a task whose worker died is run again, and a return lost with
        its node is made again from the task, as Ray does for every task's returns)."""
        self._connect()
        return self._map(fn, batches, None, keep)

    def fetch(self, handle: Any) -> Any:
        """The value behind an ObjectRef ``map_keeping`` gave."""
        with self._on_ray("fetching a kept result"):
            return self._ray.get(handle)

    def _map(
        self, fn: Callable[[T], Any], batches: Iterable[T], progress: Callable[[int], None] | None, keep: int
    ) -> Iterator[tuple[Any, tuple[Any, ...]]]:
        ray = self._ray
        task = self._task if keep == 0 else self._task.options(num_returns=1 + keep)
        out: collections.deque[Any] = collections.deque()  # refs in batch order
        sizes: dict[Any, int] = {}  # refs not yet counted in progress -> their batch's size
        todo = iter(batches)
        more = True
        cap = max(1, self.ahead * self.jobs)
        try:
            with _signals_through_ray():
                fn_ref = ray.put(fn)  # once per map, not once per task
            while True:
                while more and len(out) < cap:
                    batch = next(todo, _END)
                    if batch is _END:
                        more = False
                        break
                    refs = task.remote(fn_ref, batch)
                    ref, rest = (refs, ()) if keep == 0 else (refs[0], tuple(refs[1:]))
                    out.append((ref, rest))
                    sizes[ref] = batch_items(batch)
                if not out:
                    return
                head, kept = out[0]
                while head in sizes:  # count every task that finished, until the head has
                    with _signals_through_ray():
                        ready, _ = ray.wait(list(sizes), num_returns=1)
                    for ref in ready:
                        n = sizes.pop(ref)
                        if progress is not None:
                            progress(n)
                out.popleft()
                with _signals_through_ray():
                    value = self._get(head)
                yield value, kept
        finally:
            # Left early (an error, a signal, a closed generator): nothing should run on for
            # nobody. A Ray this engine started is shut down next, which stops its tasks; a
            # cancel racing a task's completion there has aborted Ray's core worker ("Tried to
            # complete task that was not pending"), so only a joined cluster's tasks are cancelled.
            if not self._owned:
                with contextlib.suppress(Exception):  # never in the way of the error that left early
                    for ref, _ in out:
                        ray.cancel(ref, force=False)

    def _get(self, ref: Any) -> Any:
        """A finished task's value; its failure as a WorkerError."""
        ray = self._ray
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            cause = exc.cause if isinstance(getattr(exc, "cause", None), BaseException) else exc
            if isinstance(cause, WorkerError):
                raise cause from exc
            raise WorkerError(f"a batch failed: {type(cause).__name__}: {_line(cause)}") from exc
        except ray.exceptions.RayError as exc:  # the worker died more often than max_retries, the node was lost
            raise WorkerError(f"a Ray worker stopped without finishing its batch: {_line(exc)}") from exc

    def components(
        self, n_docs: int, matches: Sequence[Match], progress: Progress | None = None
    ) -> list[tuple[int, ...]]:
        """Connected components of the matches by min-label propagation on the workers
        (``ray_components``), ``partitions`` two a CPU; the groups of ``cluster.components``.
        ``progress`` shows a bar a round (its total the round's tasks: the rounds a graph
        needs are known only when one changes nothing)."""
        if not matches:
            return []
        self._connect()
        from . import ray_components

        edges = np.array([(m.a, m.b) for m in matches], dtype=np.int64)
        with self._on_ray("finding the clusters"):
            groups, _ = ray_components.components(edges, n_docs, partitions=2 * self.jobs, progress=progress)
        return groups

    def candidate_pairs(
        self, sigs: Signatures | KeptBatches, anchors: Anchors | None, sizes: NDArray[np.int64], config: ScanConfig,
        progress: Progress | None = None,
    ) -> KeptPairs:  # fmt: skip
        """Stage 5 with banding, anchors and the signature filter as shuffles by key on the
        workers (``ray_candidates``), from the batches the hashing tasks left in the object
        store (``KeptBatches``) or from whole-run arrays; ``progress`` gets the stage's tasks.
        The pairs stay in the object store, partitioned by pair (``KeptPairs``: counts here)."""
        self._connect()
        from . import ray_candidates

        if isinstance(sigs, KeptBatches):
            blocks = ray_candidates.blocks_of_kept(sigs)
        else:
            assert anchors is not None, "whole-run signatures come with their anchors"
            blocks = ray_candidates.blocks_of(sigs, anchors)
        p = 2 * self.jobs
        advance = None
        if progress is not None:
            progress.start("finding candidates", ray_candidates.stage_tasks(len(blocks), p))
            advance = progress.advance
        with self._on_ray("finding candidate pairs"):
            return ray_candidates.pair_parts(self._ray, blocks, sizes, config, partitions=p, progress=advance)

    def verify(
        self, pairs: NDArray[np.int64] | KeptPairs, shingles: ShingleSets, config: ScanConfig,
        text_of: Layouts | None, progress: Callable[[int], None] | None = None,
    ) -> list[Match]:  # fmt: skip
        """Stage 6 with the exact measure in tasks (``ray_verify``): of the pairs where the
        candidate stage left them, when the sets lie in this machine's spill files (a Ray
        this engine started here); otherwise of the pairs brought here, joined by document."""
        self._connect()
        from . import ray_verify

        with self._on_ray("comparing candidate pairs"):
            places = ray_verify.places_of(shingles) if self._same_machine else None
            if isinstance(pairs, KeptPairs) and places is not None:
                return ray_verify.verify_parts(self._ray, pairs, places, shingles, config, text_of, progress=progress)
            return ray_verify.verify(
                self._ray,
                as_array(pairs),
                shingles,
                config,
                text_of,
                ahead=max(1, self.ahead * self.jobs),
                progress=progress,
                local_files=self._same_machine,  # workers read the run's spill files themselves
            )

    def star_splitter(self, shingles: ShingleSets, infos: DocTable, config: ScanConfig) -> SplitMany | None:
        """The star split of components of three or more in tasks (``ray_stars``), batches of
        components in order; None when the tasks cannot read the run's sets where they lie
        (a joined cluster, or sets held in this process): the run's process splits them."""
        self._connect()
        from . import ray_stars, ray_verify

        places = ray_verify.places_of(shingles) if self._same_machine else None
        if places is None:
            return None
        split = functools.partial(ray_stars.split_stars, places=places, config=config)

        def many(
            groups: Sequence[tuple[int, ...]], orders: Sequence[Sequence[int]], neighbours: dict[int, set[int]]
        ) -> list[list[tuple[int, ...]] | None]:
            tasks = []
            for g, order in zip(groups, orders, strict=True):
                docs = [infos[d] for d in g]
                tasks.append(
                    ray_stars.StarTask(
                        g,
                        tuple(order),
                        tuple(tuple(sorted(neighbours.get(d, ()))) for d in g),
                        tuple((doc.locator, doc.kind) for doc in docs),
                        tuple(doc.digest for doc in docs),
                    )
                )
            out: list[list[tuple[int, ...]] | None] = []
            with self._on_ray("splitting the clusters"):
                for found in self.map(split, ray_stars.batches(tasks)):
                    out.extend(found)
            return out

        return many

    @contextlib.contextmanager
    def _on_ray(self, what: str) -> Iterator[None]:
        """A stage's Ray calls: signals come out as themselves, a lost worker as a WorkerError."""
        try:
            with _signals_through_ray():
                yield
        except self._ray.exceptions.RayError as exc:  # a worker died more often than its retries
            raise WorkerError(f"{what} on Ray failed: {_line(exc)}") from exc

    def close(self) -> None:
        """Shut down the Ray this engine started (one it joined is left running); idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._owned and self._ray.is_initialized():
            stopped = isinstance(sys.exc_info()[1], (Interrupted, KeyboardInterrupt))
            with _stderr_silenced() if stopped else contextlib.nullcontext():
                self._ray.shutdown()

    def __enter__(self) -> RayEngine:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Standard error (file descriptor 2) sent to /dev/null for a while: Ray's C++ core logs
    the tasks a stopped run leaves in flight as errors while it shuts down ("Failed to push
    error to driver"), lines that are noise before the run's own ``Error: stopped by …``."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no standard error to save: nothing to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_END = object()  # the end of an iterator, for next()


#: Signals the run handles itself (the program turns them into ``errors.Interrupted``).
_KEPT_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def _signals_kept() -> Iterator[None]:
    """Put back this process's signal handlers after ``ray.init``, which installs its own
    (a SIGTERM would print a C stack trace and exit 1 instead of stopping the run cleanly
    with 128 + the signal). A SIGTERM during ``ray.init`` meets Ray's handler, a
    ``sys.exit(15)``: it leaves as the program's own ``Interrupted``."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.getsignal(sig) for sig in _KEPT_SIGNALS}
    try:
        yield
    except SystemExit as exc:
        if exc.code == signal.SIGTERM and signal.getsignal(signal.SIGTERM) is not saved.get(signal.SIGTERM):
            saved = dict.fromkeys(saved, signal.SIG_IGN)  # as the program's handler: clean-up is not cut short
            raise Interrupted(signal.SIGTERM) from None
        raise
    finally:
        for sig, handler in saved.items():
            if handler is not None:
                signal.signal(sig, handler)


@contextlib.contextmanager
def _signals_through_ray() -> Iterator[None]:
    """Let a signal's exception out of a Ray call as itself: raised by the program's handler
    while Ray's C code waits, it comes out wrapped in a SystemError (a traceback, exit 1)."""
    try:
        yield
    except SystemError as exc:
        cause = exc.__cause__ or exc.__context__
        if cause is not None and not isinstance(cause, Exception):  # Interrupted, KeyboardInterrupt
            raise cause from None
        raise


def _one_node_here(ray: ModuleType) -> bool:
    """True when the Ray cluster is one node, and it is this machine."""
    nodes = [node for node in ray.nodes() if node.get("Alive")]
    return len(nodes) == 1 and nodes[0].get("NodeManagerAddress") == ray.util.get_node_ip_address()


def _line(exc: BaseException) -> str:
    """The first line of an exception's text (Ray's carry whole tracebacks)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def make_ray_engine(jobs: int, **options: Any) -> RayEngine:
    """The engine ``make_engine("ray", jobs, ...)`` returns; ``address`` may come from
    ``RAY_ADDRESS`` as in Ray itself."""
    if options.get("address") is None and os.environ.get("RAY_ADDRESS"):
        options["address"] = os.environ["RAY_ADDRESS"]
    return RayEngine(jobs, **options)
