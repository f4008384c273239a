"""What the ``dedup`` commands share: the fatal error, the report console and its stdout
handling, the scan options and the scan run with its progress display."""

from __future__ import annotations

import contextlib
import os
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console

from . import cache as sigcache
from . import report
from .config import ScanConfig
from .errors import ConfigError, DedupError
from .options import jobs_note
from .pipeline import scan
from .records import ScanResult
from .sizes import ByteSize, shown_size

if TYPE_CHECKING:
    from rich.progress import Progress

F = TypeVar("F", bound=Callable[..., Any])
_DEFAULTS = ScanConfig()


class FatalError(click.ClickException):
    """A run that cannot go on: "Error: ..." on stderr and exit 2."""

    exit_code = 2


#: The exit code of a run whose stdout was closed by its reader (``dedup scan ... | head``):
#: what a shell reports for git or coreutils there (128 + SIGPIPE), so ``set -o pipefail``
#: treats dedup as it treats them. Not 0, which would claim the whole output was read, and
#: not 1 (the code of ``--fail-on-duplicates``), which Python's own recipe uses.
EXIT_CLOSED_PIPE = 128 + 13


def quiet_stdout() -> None:
    """Point stdout's file descriptor at /dev/null, so that what is still buffered for a
    closed or full stdout is dropped at exit instead of raising there."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(fd, sys.stdout.fileno())
        finally:
            os.close(fd)
    except (OSError, ValueError, AttributeError):  # no stdout, or not a real file (CliRunner)
        pass


def say(message: str) -> None:
    """One line on stderr, if stderr can still take it (a hung-up terminal cannot)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        click.echo(message, err=True)


def flush_stdout() -> int | None:
    """Flush stdout now, where a failure can be reported, not at interpreter exit: the exit
    code for a closed pipe or a full disk, None when all went out."""
    if sys.stdout is None:
        return None
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        quiet_stdout()
        return EXIT_CLOSED_PIPE
    except (OSError, ValueError) as exc:
        quiet_stdout()
        say(f"Error: cannot write to stdout: {strerror(exc)}")
        return 2
    return None


def strerror(exc: BaseException) -> str:
    """Why an operation failed, on one line (an OSError's reason without its errno and path)."""
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
    return " ".join(text.split())


class ClosedPipe(Exception):
    """Stdout's reader went away (``| head``): a quiet exit with ``EXIT_CLOSED_PIPE``."""


class ReportConsole(Console):
    """rich's Console, except that a closed pipe ends the run as the program's closed pipe
    (rich's own handling exits 1, the code of ``--fail-on-duplicates``)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise ClosedPipe


class _RichProgress:
    """Adapts the pipeline's progress callbacks to a rich progress display on stderr."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: Any = None

    def start(self, stage: str, total: int | None) -> None:
        if self._task is not None:
            self._progress.update(self._task, visible=False)
        self._task = self._progress.add_task(stage, total=total)

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, n)


def scan_options(func: F) -> F:
    """The options that shape a scan, shared by `scan` and `eval`; defaults from ScanConfig."""
    options = [
        click.option("--include", multiple=True, metavar="GLOB", help="Read only files matching GLOB (repeatable)."),
        click.option("--exclude", multiple=True, metavar="GLOB", help="Skip files matching GLOB (repeatable)."),
        click.option("--hidden", is_flag=True, help="Read hidden files and folders too."),
        click.option("--text-field", default=_DEFAULTS.text_field, show_default=True, help="JSON/JSONL/Parquet field with the text; dotted for nested (meta.body)."),
        click.option("--id-field", default=_DEFAULTS.id_field, show_default=True, help="JSON/JSONL/Parquet field with the record id; dotted for nested."),
        click.option("--max-bytes", type=ByteSize(least=1), default=shown_size(_DEFAULTS.max_bytes), show_default=True, help="Skip larger files (bytes, or 10K, 500M, 2G)."),
        click.option("--shingle-size", type=click.IntRange(1, 64), default=_DEFAULTS.shingle_size, show_default=True, help="Words per shingle."),
        click.option("--char-shingle-size", type=click.IntRange(1, 64), default=_DEFAULTS.char_shingle_size, show_default=True, help="Characters per shingle for CJK/Thai text."),
        click.option("--num-perm", type=click.IntRange(1, 1024), default=_DEFAULTS.num_perm, show_default=True, help="MinHash permutations."),
        click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=_DEFAULTS.seed, show_default=True, help="MinHash seed."),
        click.option("--bands", type=click.IntRange(min=1), default=_DEFAULTS.bands, show_default=True, help="LSH bands (num-perm must be a multiple)."),
        click.option("--jaccard", "jaccard_threshold", type=click.FloatRange(0, 1, min_open=True), default=_DEFAULTS.jaccard_threshold, show_default=True, help="Jaccard at or above which two documents are copies."),
        click.option("--containment", "containment_threshold", type=click.FloatRange(0, 1, min_open=True), default=_DEFAULTS.containment_threshold, show_default=True, help="Share of the smaller document inside the larger at or above which they are copies."),
        click.option("--min-shingles", type=click.IntRange(min=1), default=_DEFAULTS.min_shingles, show_default=True, help="Smallest document a containment match may start from."),
        click.option("--min-size-ratio", type=click.FloatRange(0, 1), default=_DEFAULTS.min_size_ratio, show_default=True, help="Smallest size of the contained document relative to the larger."),
        click.option("--cluster", "cluster_mode", type=click.Choice(["star", "components"]), default=_DEFAULTS.cluster_mode, show_default=True, help="star: members match the cleanest copy; components: chains allowed."),
        click.option("-j", "--jobs", type=click.IntRange(min=0), default=_DEFAULTS.jobs, show_default=True, help="Worker processes; 0 means all cores. At most 2 per core are started, and no more than there are tasks."),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def config_from(options: dict[str, Any]) -> ScanConfig:
    """Build the ScanConfig from parsed options; contradictions become usage errors."""
    fields = {k: v for k, v in options.items() if k in ScanConfig.__dataclass_fields__}
    fields["include"] = tuple(fields.get("include", ()))
    fields["exclude"] = tuple(fields.get("exclude", ()))
    try:
        return ScanConfig(**fields)
    except DedupError as exc:
        raise click.UsageError(str(exc)) from exc


def cache_options(func: F) -> F:
    """Where the signature cache lives, and whether to use it."""
    func = click.option("--no-cache", is_flag=True, help="Neither read nor update the signature cache.")(func)
    return click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder of the signature cache.  [default: $DEDUP_CACHE_DIR or ~/.cache/dedup]",
    )(func)


def cache_file(cache_dir: Path | None) -> Path:
    """The cache file in `cache_dir`, or the default one."""
    return cache_dir / sigcache.default_path().name if cache_dir else sigcache.default_path()


def run_scan(
    paths: tuple[Path, ...],
    config: ScanConfig,
    quiet: bool,
    cache: Path | None,
    engine_name: str = "local",
    engine_options: dict[str, Any] | None = None,
) -> ScanResult:
    """scan() with a progress display on stderr when it is a terminal; warnings to stderr."""
    err = ReportConsole(stderr=True, highlight=False)
    show = not quiet and err.is_terminal
    capped = jobs_note(config.jobs) if engine_name == "local" else None
    if capped:
        err.print(report.display(f"warning: {capped}"), soft_wrap=True)
    try:
        if not show:
            result = scan(paths, config, cache=cache, engine_name=engine_name, engine_options=engine_options)
        else:
            # Imported only when shown: a tenth of the start-up of a quiet rescan.
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            columns = (
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=err, transient=True) as bar:
                result = scan(
                    paths,
                    config,
                    progress=_RichProgress(bar),
                    cache=cache,
                    engine_name=engine_name,
                    engine_options=engine_options,
                )
    except ConfigError as exc:  # a glob that does not compile, found when the walk starts
        raise click.UsageError(str(exc)) from exc
    except DedupError as exc:
        raise FatalError(str(exc)) from exc
    for warning in result.warnings:
        err.print(report.display(f"warning: {warning}"), soft_wrap=True)  # one line, however long
    nothing = nothing_read(result, config)
    if nothing:
        raise FatalError(nothing)
    return result


def nothing_read(result: ScanResult, config: ScanConfig) -> str | None:
    """Why a run read no document at all although there was something to read, or None.

    Only a run with no document is an error, so a partly readable corpus still gives its
    result (and lists what it skipped): every file or record skipped (the message names the
    commonest reason and its first case, e.g. a missing ``--text-field`` with the fields the
    records do have), or ``--include``/``--exclude`` that left nothing. An empty folder with
    no filters is not an error: there was nothing to read.
    """
    if result.summary.documents:
        return None
    if result.skipped:
        by_reason = Counter(str(item.reason) for item in result.skipped)
        reason, _ = max(by_reason.items(), key=lambda kv: (kv[1], kv[0]))
        first = next(item for item in result.skipped if str(item.reason) == reason)
        counts = ", ".join(f"{r} {n:,}" for r, n in sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0])))
        example = report.display(f"{first.rel}: {first.detail}").plain
        return f"no document could be read: {len(result.skipped):,} skipped ({counts}); first: {example}"
    if config.include or config.exclude:
        globs = [f"--include {p!r}" for p in config.include] + [f"--exclude {p!r}" for p in config.exclude]
        roots = ", ".join(report.display(r).plain for r in result.roots)
        return f"no file to read under {roots}: {' '.join(globs)} left out every file"
    return None


def show_report(render: Callable[[Console], None]) -> None:
    """Print a report on stdout; a full disk or a closed stdout is one ``Error:`` line,
    and a reader that went away (``| head``) is left to the program's quiet exit."""
    try:
        render(ReportConsole(highlight=False))
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        quiet_stdout()
        raise FatalError(f"cannot write the report: {strerror(exc)}") from exc
