"""The ``dedup`` command: options -> ScanConfig -> scan() -> report and exports.

Exit codes, as diff and grep use them: 0 the run finished (skipped files are reported,
not failures); 1 duplicates were found and ``--fail-on-duplicates`` was given; 2 a usage
error or a fatal one (a missing path, an export that cannot be written, nothing that could
be read); 128 + the signal's number when a signal stopped the run (130 SIGINT, 143 SIGTERM,
129 SIGHUP); 141 when stdout was closed by its reader (``| head``), as git and coreutils,
which die of SIGPIPE, report it.

The group and the program live here; each command is a thin click wrapper in its own module
(``cli_scan``, ``cli_apply``, ``cli_tools``), and what they share is in ``cli_common``.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from typing import Any

import click

from . import __version__, usage
from .cli_apply import apply_command, undo_command
from .cli_common import EXIT_CLOSED_PIPE, ClosedPipe, flush_stdout, quiet_stdout, say
from .cli_scan import scan_command
from .cli_tools import cache_group, corpus_command, eval_command, explain_command
from .errors import Interrupted
from .leave import leave_if_ray

__all__ = ["COLLECT_EVERY", "EXIT_CLOSED_PIPE", "STOP_SIGNALS", "main", "run"]

#: The signals the program turns into ``Interrupted``: each run cleans up (worker pool,
#: spill folder, temporary export files) and exits with 128 + the signal's number.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class _Program(click.Group):
    """The ``dedup`` group, with the program's own endings: every way a run stops is one
    line on stderr (or none, for a closed pipe) and an exit code from the README's table.

    Click's standalone mode would print "Aborted!" and exit 1 on Ctrl-C, and exit 1 on a
    closed pipe: 1 is the code of ``--fail-on-duplicates``, so a script could not tell a
    stopped run from duplicates found.
    """

    command_class = usage.Command  # an option given twice is a usage error
    group_class = usage.Group

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise ClosedPipe from None  # past click's own handling, which exits 1

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        code: int | None = 0
        try:
            try:
                code = super().main(args, prog_name, complete_var, False, **extra)
            except click.exceptions.Abort as exc:  # click's wrapping of Ctrl-C (and EOF at a prompt)
                if isinstance(exc.__context__, KeyboardInterrupt):
                    raise Interrupted(signal.SIGINT) from None
                raise
            except KeyboardInterrupt:
                raise Interrupted(signal.SIGINT) from None
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except click.ClickException as exc:
            flush_stdout()
            if isinstance(exc, click.UsageError) and not isinstance(exc, click.exceptions.NoArgsIsHelpError):
                say(usage.usage_line(exc))  # one line, as the README promises
            else:
                exc.show()
            code = exc.exit_code
        except click.exceptions.Abort:
            say("Error: aborted")
            code = 1
        except Interrupted as exc:
            quiet_stdout()
            say(f"Error: {exc}")
            code = exc.exit_code
        except ClosedPipe:
            quiet_stdout()
            code = EXIT_CLOSED_PIPE
        flushed = flush_stdout()
        sys.exit(flushed if flushed is not None else code or 0)


@click.group(cls=_Program, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dedup")
def main() -> None:
    """Find near-duplicate documents in scraped files, and the cleanest copy of each."""


#: New container objects between two runs of the cycle collector in the ``dedup`` program.
COLLECT_EVERY = 1_000_000


def run() -> None:
    """The ``dedup`` program (console script and ``python -m dedup``): ``main`` in a process
    of its own, with the cycle collector run every ``COLLECT_EVERY`` new container objects
    instead of 700.

    A scan makes hundreds of thousands of small records (a walk alone, one per file) and
    almost no reference cycles, so CPython's default walked the same live objects again
    and again. Each collection looks at every object made since the last one, about
    0.6 µs an object here: at 100,000, a rescan of 100,000 unchanged files still spent
    0.15 s of its 2.3 s in three collections over the walk's and the stored result's
    records. At a million, such a run makes no collection at all, and a long run pays the
    same per object as before. Only the program sets this, in the process it owns;
    ``main`` as a library call (tests, embedding) and ``dedup.scan`` leave a caller's
    collector alone. What is made before the command runs (modules, classes) is moved out
    of the collector's sight with ``gc.freeze``.
    """
    gc.freeze()
    gc.set_threshold(COLLECT_EVERY, 50, 100)
    _stop_on_signals()
    try:
        main()
    except SystemExit as exc:  # a run stopped by a signal leaves at once if it used Ray (leave.py)
        if isinstance(exc.code, int) and exc.code - 128 in STOP_SIGNALS:
            leave_if_ray(exc.code)
        raise


def _stop_on_signals() -> None:
    """Turn SIGINT, SIGTERM and SIGHUP into ``Interrupted`` in this process, so every
    ``finally`` on the way out runs (workers stopped, spill folder and temporary export
    files removed) and the exit code says which signal it was.

    Once one has arrived the others are ignored, so the clean-up is not cut short. A child
    forked from here (a worker) goes back to the default actions for SIGTERM and SIGHUP
    (die at once and quietly: the run stops the workers it started), and keeps this
    handler only until it sets its own.
    """
    owner = os.getpid()

    def stop(signum: int, frame: object) -> None:
        if os.getpid() != owner:  # a forked child before it set its own handlers
            os._exit(128 + signum)
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        raise Interrupted(signum)

    def in_child() -> None:
        for sig in STOP_SIGNALS:
            if sig != signal.SIGINT:
                signal.signal(sig, signal.SIG_DFL)

    for sig in STOP_SIGNALS:
        signal.signal(sig, stop)
    os.register_at_fork(after_in_child=in_child)


for _command in (scan_command, apply_command, undo_command, cache_group, eval_command, explain_command, corpus_command):
    main.add_command(_command)
