"""A process pool on plain pipes: results in task order, nothing but the caller's thread.

``concurrent.futures.ProcessPoolExecutor`` moves every task and result through two
helper threads in the run's process (a manager and a queue feeder). On a two-core machine
the run's process shares the cores with its workers, and those threads' hand-offs cost
about 3.5 µs a document there. Here the caller's thread writes each task to its worker's
pipe and reads the results itself; each worker has one small thread that takes tasks off
its pipe as they arrive, so a task written while the worker is busy never blocks the run
(and the run never blocks a worker sending a large result).
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import multiprocessing
import queue
import signal
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from .errors import WorkerError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

#: Tasks written to one worker before its first comes back: one to work on, one waiting,
#: so that a worker never waits for the run's process to hand it the next.
IN_FLIGHT = 2

#: The size asked for the result pipes (Linux's default /proc/sys/fs/pipe-max-size).
PIPE_BYTES = 1 << 20

_STOP = None  # the message that ends a worker


class RemoteTraceback(Exception):
    """The worker's traceback, chained to an exception raised there (as concurrent.futures does)."""

    def __str__(self) -> str:
        return str(self.args[0])


def _serve(tasks: Connection, results: Connection, theirs: list[Connection]) -> None:
    """A worker's loop: run each ``(fn, item)`` and send back ``(True, value)`` or
    ``(False, exception, traceback text)``. ``fn`` is None when it is the last one sent.

    ``theirs`` are the run's ends of the pipes, which a forked worker inherits: closed
    first, so that when the run ends, however it ends, this worker reads the end of its
    task pipe and stops instead of waiting forever as an orphan."""
    for conn in theirs:
        conn.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle; it stops the workers
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def take() -> None:
        while True:
            try:
                message = tasks.recv()
            except (EOFError, OSError):
                message = _STOP
            inbox.put(message)
            if message is _STOP:
                return

    threading.Thread(target=take, daemon=True).start()
    fn: Callable[[Any], Any] | None = None
    while (message := inbox.get()) is not _STOP:
        new_fn, item = message
        fn = new_fn or fn
        assert fn is not None
        try:
            reply: tuple[Any, ...] = (True, fn(item))
        except Exception as exc:
            reply = (False, exc, traceback.format_exc())
        try:
            results.send(reply)
        except (BrokenPipeError, ConnectionResetError):
            return  # the run is gone (killed outright): nobody is left to read it, nothing to say
        except Exception as exc:  # a value or exception that does not pickle
            results.send((False, RuntimeError(f"a worker's reply could not be sent: {exc!r}"), traceback.format_exc()))


class Pool:
    """``jobs`` worker processes, started on first use (or ``start``) and stopped by ``close``.

    ``map`` keeps at most ``ahead`` tasks per worker between handing out and handing back
    (finished results wait in memory only that far behind a slower, earlier one), gives
    each task to the first worker with room, and yields the results in task order.
    """

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._procs: list[BaseProcess] = []
        self._tasks: list[Connection] = []
        self._results: list[Connection] = []
        self._last_fn: list[Any] = []  # per worker: the fn it holds (kept alive, so never a reused id)
        self._out: list[collections.deque[int]] = []  # per worker: the task numbers it has, in its order

    @property
    def pids(self) -> list[int]:
        """The process ids of the started workers."""
        return [proc.pid for proc in self._procs if proc.pid is not None]

    def start(self, most: int | None = None) -> None:
        """Start the workers now (at most ``most`` of them), e.g. while the run's process is
        still small (a forked worker is charged with a copy of its parent's page tables).
        ``map`` starts the others only when every started one has a task out: never more
        workers than tasks."""
        want = self.jobs if most is None else max(1, min(most, self.jobs))
        while len(self._procs) < want:
            self._spawn()

    def _spawn(self) -> None:
        ctx = multiprocessing.get_context()
        task_r, task_w = ctx.Pipe(duplex=False)
        result_r, result_w = ctx.Pipe(duplex=False)
        _widen(result_w)
        theirs = [task_w, result_r, *self._tasks, *self._results]  # the run's ends, this and earlier workers'
        proc = ctx.Process(target=_serve, args=(task_r, result_w, theirs), daemon=True, name="dedup-worker")
        proc.start()
        task_r.close()
        result_w.close()
        self._procs.append(proc)
        self._tasks.append(task_w)
        self._results.append(result_r)
        self._last_fn.append(None)

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], ahead: int = 2) -> Iterator[Any]:
        """``fn`` over ``items`` in the workers, results in order. ``fn`` and each item must
        pickle; ``fn`` crosses a worker's pipe once per map, not once per task. An exception
        raised by ``fn`` is raised here, in order, with the worker's traceback chained."""
        if any(self._out):
            raise RuntimeError("Pool.map: an earlier map still has tasks out; finish or close it first")
        self.start(1)
        todo = iter(items)
        more = True
        sent = 0  # tasks handed out
        done: dict[int, tuple[Any, ...]] = {}  # finished, by task number, not yet yielded
        out = self._out = [collections.deque() for _ in self._procs]
        cap = ahead * self.jobs
        try:
            for next_out in itertools.count():
                while more and sent - next_out < cap:
                    grow = len(self._procs) < self.jobs
                    room = [w for w in range(len(out)) if len(out[w]) < IN_FLIGHT]
                    if not room and not grow:
                        break
                    item = next(todo, _END)
                    if item is _END:
                        more = False
                        break
                    if grow and all(out):  # a task and every worker busy: one more worker
                        self._spawn()
                        out.append(collections.deque())
                        room = [len(out) - 1]
                    w = min(room, key=lambda k: len(out[k]))
                    self._send(w, fn, item)
                    out[w].append(sent)
                    sent += 1
                if next_out == sent:
                    return
                while next_out not in done:
                    self._receive(out, done)
                reply = done.pop(next_out)
                if not reply[0]:
                    raise reply[1] from RemoteTraceback(reply[2])
                yield reply[1]
        finally:
            if out is self._out and any(out):  # left early with tasks out: no stale results for the next map
                self.close(finish=False)

    def _send(self, w: int, fn: Callable[[Any], Any], item: Any) -> None:
        new_fn = None if self._last_fn[w] is fn else fn
        try:
            self._tasks[w].send((new_fn, item))
        except BrokenPipeError:
            raise self._died(w) from None
        self._last_fn[w] = fn

    def _receive(self, out: list[collections.deque[int]], done: dict[int, tuple[Any, ...]]) -> None:
        """Wait for at least one worker with tasks out, and take in what it sent."""
        busy = [w for w in range(len(out)) if out[w]]
        by_conn = {self._results[w]: w for w in busy}
        by_sentinel = {self._procs[w].sentinel: w for w in busy}
        for ready in wait([*by_conn, *by_sentinel]):
            if isinstance(ready, int):  # a worker process ended; what it sent before is still readable
                w = by_sentinel[ready]
                if self._results[w].poll():
                    continue
                raise self._died(w)
            w = by_conn[ready]  # type: ignore[index]
            try:
                reply = self._results[w].recv()
            except EOFError:
                raise self._died(w) from None
            done[out[w].popleft()] = reply

    def _died(self, w: int) -> WorkerError:
        self._procs[w].join()
        return WorkerError(f"a worker process stopped unexpectedly ({_exit_reason(self._procs[w].exitcode)})")

    def close(self, finish: bool = True) -> None:
        """Stop the workers: after their current tasks when ``finish``, at once otherwise
        and whenever a map was left with tasks out (a worker could be blocked sending a
        result nobody will read). A later ``start`` or ``map`` starts new ones."""
        finish = finish and not any(self._out)
        for proc, conn in zip(self._procs, self._tasks, strict=True):
            if finish and proc.is_alive():
                with contextlib.suppress(OSError):
                    conn.send(_STOP)
            else:
                proc.terminate()
        for proc in self._procs:
            proc.join()
        for conn in [*self._tasks, *self._results]:
            conn.close()
        self._procs, self._tasks, self._results, self._last_fn, self._out = [], [], [], [], []


def _widen(conn: Connection) -> None:
    """Let a pipe hold a whole result (Linux): a 256 KB chunk then crosses in one write
    instead of four 64 KB rounds of the worker waking the run and waiting for it."""
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl else None
    if setsize is not None:
        with contextlib.suppress(OSError):  # above /proc/sys/fs/pipe-max-size: keep the default
            fcntl.fcntl(conn.fileno(), setsize, PIPE_BYTES)


_END = object()  # the end of an iterator, for next()


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = ": the system may have run out of memory; try fewer --jobs" if -code == signal.SIGKILL else ""
        return f"killed by {name}{hint}"
    return f"exit code {code}"
