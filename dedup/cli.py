"""The ``dedup`` command: options -> ScanConfig -> scan() -> report and exports.

Exit codes, as diff and grep use them: 0 the run finished (skipped files are reported,
not failures); 1 duplicates were found and ``--fail-on-duplicates`` was given; 2 a usage
error or a fatal one (a missing path, an export that cannot be written, nothing that could
be read); 128 + the signal's number when a signal stopped the run (130 SIGINT, 143 SIGTERM,
129 SIGHUP); 141 when stdout was closed by its reader (``| head``), as git and coreutils,
which die of SIGPIPE, report it.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import stat
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console

from . import __version__, export, report, usage
from . import cache as sigcache
from .config import ScanConfig
from .errors import ConfigError, DedupError, Interrupted
from .pipeline import scan
from .records import ScanResult, Skipped

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

#: The signals the program turns into ``Interrupted``: each run cleans up (worker pool,
#: spill folder, temporary export files) and exits with 128 + the signal's number.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def _quiet_stdout() -> None:
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


def _say(message: str) -> None:
    """One line on stderr, if stderr can still take it (a hung-up terminal cannot)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        click.echo(message, err=True)


def _flush_stdout() -> int | None:
    """Flush stdout now, where a failure can be reported, not at interpreter exit: the exit
    code for a closed pipe or a full disk, None when all went out."""
    if sys.stdout is None:
        return None
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_CLOSED_PIPE
    except (OSError, ValueError) as exc:
        _quiet_stdout()
        _say(f"Error: cannot write to stdout: {_strerror(exc)}")
        return 2
    return None


def _strerror(exc: BaseException) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
    return " ".join(text.split())


class _ClosedPipe(Exception):
    """Stdout's reader went away (``| head``): a quiet exit with ``EXIT_CLOSED_PIPE``."""


class _Console(Console):
    """rich's Console, except that a closed pipe ends the run as the program's closed pipe
    (rich's own handling exits 1, the code of ``--fail-on-duplicates``)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise _ClosedPipe


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
            raise _ClosedPipe from None  # past click's own handling, which exits 1

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
            _flush_stdout()
            if isinstance(exc, click.UsageError) and not isinstance(exc, click.exceptions.NoArgsIsHelpError):
                _say(usage.usage_line(exc))  # one line, as the README promises
            else:
                exc.show()
            code = exc.exit_code
        except click.exceptions.Abort:
            _say("Error: aborted")
            code = 1
        except Interrupted as exc:
            _quiet_stdout()
            _say(f"Error: {exc}")
            code = exc.exit_code
        except _ClosedPipe:
            _quiet_stdout()
            code = EXIT_CLOSED_PIPE
        flushed = _flush_stdout()
        sys.exit(flushed if flushed is not None else code or 0)


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
        click.option("--max-bytes", type=click.IntRange(min=1), default=_DEFAULTS.max_bytes, show_default=True, help="Skip larger files."),
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
        click.option("-j", "--jobs", type=click.IntRange(min=0), default=_DEFAULTS.jobs, show_default=True, help="Worker processes; 0 means all cores."),
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
    err = _Console(stderr=True, highlight=False)
    show = not quiet and err.is_terminal
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
        err.print(report.display(f"warning: {warning}"))
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
    main()


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


@main.command("scan")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@scan_options
@cache_options
@click.option(
    "-o",
    "--output",
    type=click.Path(allow_dash=True, path_type=Path),
    help="Write the clusters to FILE (.json, .jsonl, .csv; - for stdout).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "jsonl", "csv", "parquet"]),
    help="Export format when FILE's extension does not say.",
)
@click.option(
    "--keep-list",
    type=click.Path(path_type=Path),
    help="Write the ids to keep (one cleanest copy per cluster, and every unique document).",
)
@click.option(
    "--drop-list", type=click.Path(path_type=Path), help="Write the ids of the duplicates (every non-cleanest member)."
)
@click.option(
    "-0",
    "--null",
    is_flag=True,
    help="Keep and drop lists: each id's exact bytes ended by a NUL (for xargs -0), not escaped lines.",
)
@click.option("--absolute", is_flag=True, help="Keep and drop lists: absolute paths (records: /abs/file:id), not ids.")
@click.option(
    "--decisions",
    "decisions_file",
    type=click.Path(allow_dash=True, path_type=Path),
    help="Write the per-document decision table to FILE (.json, .jsonl, .csv, .parquet).",
)
@click.option(
    "--html",
    "html_file",
    type=click.Path(path_type=Path),
    help="Write a self-contained HTML report (plots, searchable clusters, side-by-side texts) to FILE.",
)
@click.option(
    "--prefer",
    multiple=True,
    metavar="RULE",
    help="Keep the copy RULE prefers over the ranking's: newest, oldest, shortest-path, or a glob or folder (repeatable, in order).",
)
@click.option("--fail-on-duplicates", is_flag=True, help="Exit 1 when any duplicates are found.")
@click.option("-q", "--quiet", is_flag=True, help="No report and no progress: only exports and errors.")
@click.option("-v", "--verbose", is_flag=True, help="List every skipped file in the report.")
@click.option(
    "--top",
    default=str(report.DEFAULT_TOP),
    show_default=True,
    callback=lambda ctx, param, value: _top(value),
    help="Clusters the report shows, largest saving first; 'all' for every one.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="What runs the parallel work: this machine's worker processes, or Ray (pip install 'dedup[ray]').",
)
@click.option(
    "--ray-address",
    help="With --engine ray: the Ray cluster to join ('auto', ray://host:port); default a new local Ray.",
)
def scan_command(
    paths: tuple[Path, ...],
    output: Path | None,
    fmt: str | None,
    keep_list: Path | None,
    drop_list: Path | None,
    null: bool,
    absolute: bool,
    decisions_file: Path | None,
    html_file: Path | None,
    fail_on_duplicates: bool,
    quiet: bool,
    verbose: bool,
    top: int | None,
    cache_dir: Path | None,
    no_cache: bool,
    engine: str,
    ray_address: str | None,
    **options: Any,
) -> None:
    """Scan PATHS (folders and files; - for standard input) for near-duplicate documents."""
    if sum(str(p) == "-" for p in paths) > 1:
        raise FatalError("- (standard input) is given more than once: it can be read once")
    config = config_from(options)
    if ray_address is not None and engine != "ray":
        raise click.UsageError("--ray-address needs --engine ray")
    if engine == "ray":
        from .engine_ray import import_ray  # the only path that imports ray, and before any work

        try:
            import_ray()
        except DedupError as exc:
            raise FatalError(str(exc)) from exc
    if fmt and output is None:
        raise click.UsageError("--format needs --output")
    if null and keep_list is None and drop_list is None:
        raise click.UsageError("-0/--null needs --keep-list or --drop-list")
    if output is not None and str(output) == "-":
        fmt = fmt or "json"
    elif output is not None:
        try:
            export.format_for(output, fmt)
        except DedupError as exc:
            raise click.UsageError(str(exc)) from exc
        _check_format(output, fmt)
    outputs: tuple[tuple[str, Path | None], ...] = (
        ("--output", output), ("--keep-list", keep_list), ("--drop-list", drop_list), ("--html", html_file)
    )  # fmt: skip
    if decisions_file is not None:
        outputs = (*outputs, ("--decisions", decisions_file))
    check_outputs(paths, outputs, config)
    engine_options = {"address": ray_address} if ray_address is not None else {}
    result = run_scan(paths, config, quiet, None if no_cache else cache_file(cache_dir), engine, engine_options)
    try:
        if output is not None:
            export.write_export(result, output, fmt, version=__version__)
        if keep_list is not None or drop_list is not None:
            export.write_lists(result, keep_list, drop_list, null=null, absolute=absolute)
        if decisions_file is not None:
            from .decisions import write_decisions

            write_decisions(result, decisions_file)
        if html_file is not None:
            from .html_report import write_html  # only when asked: a scan need not import it

            write_html(result, html_file, config, version=__version__)
    except DedupError as exc:
        raise FatalError(str(exc)) from exc
    if not quiet and not any(str(path) == "-" for _, path in outputs if path is not None):
        show_report(lambda console: report.render(result, console, verbose=verbose, top=top))
    if fail_on_duplicates and result.summary.duplicates:
        sys.exit(1)


def _top(value: str) -> int | None:
    """``--top``: a count of clusters (0 or more), or ``all`` (None)."""
    if value.strip().lower() == "all":
        return None
    if not value.strip().isdigit():
        raise click.BadParameter(f"{value!r} is not a number of clusters or 'all'")
    return int(value)


def show_report(render: Callable[[Console], None]) -> None:
    """Print a report on stdout; a full disk or a closed stdout is one ``Error:`` line,
    and a reader that went away (``| head``) is left to the program's quiet exit."""
    try:
        render(_Console(highlight=False))
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        _quiet_stdout()
        raise FatalError(f"cannot write the report: {_strerror(exc)}") from exc


def _check_format(output: Path, fmt: str | None) -> None:
    """``--format`` that contradicts the extension of FILE is a usage error (which one was meant?)."""
    try:
        by_suffix = export.format_for(output)
    except DedupError:
        return  # the extension names no format: --format says it
    if fmt is not None and fmt != by_suffix:
        name = click.format_filename(str(output))
        raise click.UsageError(f"--format {fmt} contradicts the extension of {name} ({by_suffix}): drop one")


def _file_key(path: Path) -> tuple[object, ...] | None:
    """What makes two output paths one destination: the same file (device and inode) when it
    exists, else the same absolute path; None for a device, which many writers may share."""
    if str(path) == "-":
        return ("-",)
    try:
        st = os.stat(path)
    except OSError:
        return ("path", os.path.join(os.path.realpath(path.parent), path.name))
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        return None
    return ("file", st.st_dev, st.st_ino)


def check_outputs(paths: tuple[Path, ...], outputs: tuple[tuple[str, Path | None], ...], config: ScanConfig) -> None:
    """Every check of the output paths that can be made before the scan, so that a run of
    an hour does not end in an error it could have given at once.

    Two outputs naming one file (or both stdout) are a usage error; a path whose folder is
    missing or not writable, a folder, and an input file given as an output are errors.

    Raises:
        click.UsageError: two outputs name one file.
        FatalError: an output cannot be written, or is one of the files the scan reads.
    """
    given = [(option, path) for option, path in outputs if path is not None]
    seen: dict[tuple[object, ...], str] = {}
    for option, path in given:
        key = _file_key(path)
        if key is None:
            continue
        if key in seen:
            where = "stdout" if key == ("-",) else click.format_filename(str(path))
            raise click.UsageError(f"{seen[key]} and {option} both write to {where}: give each its own file")
        seen[key] = option
    for option, path in given:
        if str(path) != "-":
            _check_writable(option, path)
    _check_not_input(paths, given, config)


def _check_writable(option: str, path: Path) -> None:
    name = click.format_filename(str(path))
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise FatalError(f"cannot write {option} {name}: {_strerror(exc)}") from exc
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise FatalError(f"cannot write {option} {name}: it is a folder")
    if st is not None and (not stat.S_ISREG(st.st_mode) or path.is_symlink()):
        if not os.access(path, os.W_OK):  # written through: the file itself must take it
            raise FatalError(f"cannot write {option} {name}: permission denied")
        return
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise FatalError(f"cannot write {option} {name}: {click.format_filename(str(folder))} {what}")
    if not os.access(folder, os.W_OK | os.X_OK):  # the temporary file is made beside it
        raise FatalError(f"cannot write {option} {name}: permission denied in {click.format_filename(str(folder))}")


def _check_not_input(paths: tuple[Path, ...], given: list[tuple[str, Path]], config: ScanConfig) -> None:
    """An output that is one of the files the scan reads would be overwritten: refuse it.

    A file argument is compared by device and inode. An existing file inside a folder
    argument is an input when the walk would read it (not hidden, not excluded): only
    then is the walk made here, once, before the scan's own.
    """
    existing = []
    for option, path in given:
        if str(path) == "-":
            continue
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.stat(path).st_mode):
                existing.append((option, path))
    if not existing:
        return
    folders = []
    for root in paths:
        try:
            is_dir = root.is_dir()
        except OSError:
            continue
        if is_dir:
            folders.append(os.path.realpath(root))
            continue
        for option, path in existing:
            with contextlib.suppress(OSError):
                if os.path.samefile(root, path):
                    raise FatalError(_is_input(option, path))
    inside = [
        (option, path)
        for option, path in existing
        if any(os.path.realpath(path).startswith(os.path.join(f, "")) for f in folders)
    ]
    if not inside:
        return
    from . import read  # only for this rare case: an existing output inside a scanned folder

    try:
        found = [item for item in read.walk(list(paths), config) if not isinstance(item, Skipped)]
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    except DedupError as exc:
        raise FatalError(str(exc)) from exc
    for option, path in inside:
        names = {path.name, os.path.basename(os.path.realpath(path))}
        for source in found:
            if os.path.basename(source.path) in names:
                with contextlib.suppress(OSError):
                    if os.path.samefile(source.path, path):
                        raise FatalError(_is_input(option, path))


def _is_input(option: str, path: Path) -> str:
    return (
        f"{option} {click.format_filename(str(path))} is one of the files this scan reads; "
        "dedup never overwrites its input: write elsewhere, or --exclude it"
    )


@main.group("cache")
def cache_group() -> None:
    """Show, prune or clear the signature cache that makes rescans fast."""


def _cache_at(cache_dir: Path | None) -> tuple[Path, str]:
    """The cache file, and its name as shown."""
    path = cache_file(cache_dir)
    return path, click.format_filename(str(path))


@cache_group.command("info")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder of the signature cache.")
def cache_info(cache_dir: Path | None) -> None:
    """Where the cache is and what it holds."""
    path, shown = _cache_at(cache_dir)
    try:
        facts = sigcache.info(path)
    except sigcache.CacheError as exc:
        raise FatalError(str(exc)) from exc
    click.echo(f"cache: {shown}")
    if not facts["exists"]:
        click.echo("empty (no cache file yet)")
        return
    if facts["layout"] != sigcache.CACHE_VERSION:
        click.echo(f"an older layout ({facts['layout']}): the next scan starts it afresh")
        click.echo(f"size: {report.human_bytes(int(str(facts['bytes'])))}")
        return
    click.echo(
        f"files: {facts['files']:,}\ncontents: {facts['contents']:,}\n"
        f"rankings: {facts['rankings']:,}\nscan results: {facts['results']:,}\n"
        f"batches: {facts['batches']:,}\nscans: {facts['scans']:,}\n"
        f"size: {report.human_bytes(int(str(facts['bytes'])))}"
    )


def _byte_size(text: str) -> int:
    """``500M``, ``8G``, ``1000``: a size in bytes (K, M, G, T: powers of 1024)."""
    units = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    number, unit = text.strip().lower().rstrip("ib").rstrip() or "x", ""
    if number[-1:] in units:
        number, unit = number[:-1].strip(), number[-1]
    if not number.isdigit():
        raise click.BadParameter(f"{text!r} is not a size (such as 500M or 8G)")
    return int(number) * units[unit]


@cache_group.command("prune")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder of the signature cache.")
@click.option(
    "--keep-scans",
    type=click.IntRange(min=1),
    default=sigcache.KEEP_SCANS,
    show_default=True,
    help="Keep what the cache's last N scans used.",
)
@click.option(
    "--max-size",
    "max_size",
    default=f"{sigcache.MAX_BYTES >> 30}G",
    show_default=True,
    help="Then drop the least recently used until the stored hashing fits in SIZE (500M, 8G).",
)
def cache_prune(cache_dir: Path | None, keep_scans: int, max_size: str) -> None:
    """Drop what recent scans did not use, and give the space back."""
    path, shown = _cache_at(cache_dir)
    limit = _byte_size(max_size)
    try:
        pruned = sigcache.prune(path, keep_scans=keep_scans, max_bytes=limit)
    except sigcache.CacheError as exc:
        raise FatalError(str(exc)) from exc
    if pruned is None:
        click.echo(f"no cache at {shown}")
        return
    freed = max(pruned.bytes_before - pruned.bytes_after, 0)
    click.echo(
        f"pruned {shown}: removed {pruned.batches:,} batches, {pruned.contents:,} contents and "
        f"{pruned.files:,} file entries; {report.human_bytes(pruned.bytes_before)} -> "
        f"{report.human_bytes(pruned.bytes_after)} ({report.human_bytes(freed)} freed)"
    )


@cache_group.command("clear")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder of the signature cache.")
def cache_clear(cache_dir: Path | None) -> None:
    """Delete the cache file; the next scan hashes every file again."""
    path, shown = _cache_at(cache_dir)
    try:
        found = sigcache.clear(path)
    except sigcache.CacheError as exc:
        raise FatalError(str(exc)) from exc
    except OSError as exc:
        raise FatalError(f"cannot delete {shown}: {exc.strerror}") from exc
    click.echo(f"{'deleted' if found else 'no cache at'} {shown}")


@main.command("eval")
@click.argument("docs", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--truth",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Ground truth: JSON Lines of {cluster, ids, cleanest}.",
)
@scan_options
@click.option(
    "--exact",
    is_flag=True,
    help="Also compare every pair exhaustively and report what the candidates missed (small corpora).",
)
@click.option(
    "--top", type=click.IntRange(min=0), default=10, show_default=True, help="How many of the worst mistakes to list."
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(allow_dash=True, path_type=Path),
    help="Write the scores as JSON to FILE (- for stdout).",
)
def eval_command(docs: Path, truth: Path, exact: bool, top: int, json_out: Path | None, **options: Any) -> None:
    """Score a scan of DOCS (a folder or a JSON Lines file) against ground truth."""
    if docs.is_dir() and truth.resolve().is_relative_to(docs.resolve()):
        # The truth file sits in the corpus folder: it is not a document.
        options["exclude"] = (*options["exclude"], truth.resolve().relative_to(docs.resolve()).as_posix())
    from .evaluate import (  # here: a scan need not import it
        candidate_loss,
        evaluate_result,
        pair_measures,
        read_truth,
        text_similarity,
    )

    config = config_from(options)
    if json_out is not None:
        check_outputs((docs, truth), (("--json", json_out),), config)
    try:
        labels = read_truth(truth)
    except DedupError as exc:
        raise FatalError(str(exc)) from exc
    result = run_scan((docs,), config, quiet=json_out is not None and str(json_out) == "-", cache=None)
    measure = pair_measures(result, config)
    scores = evaluate_result(
        result,
        labels,
        measure,
        similarity=lambda a, b: measure(a, b)[0],
        char_similarity=text_similarity(result, config),
        top=top,
    )
    loss = candidate_loss(result, scan([docs], config, all_pairs=True)) if exact else None
    payload = {"docs": str(docs), "truth": str(truth), "params": config.params(), **scores.to_dict()}
    if loss is not None:
        payload["exhaustive"] = {"verified_pairs": loss[0], "missed_by_candidates": loss[1]}
    if json_out is not None:
        try:
            export.write_text_atomic(json_out, json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        except DedupError as exc:
            raise FatalError(str(exc)) from exc
        if str(json_out) == "-":
            return
    show_report(lambda console: report.render_eval(scores, console, loss=loss))


@main.command("explain")
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@scan_options
def explain_command(a: str, b: str, **options: Any) -> None:
    """Why documents A and B are or are not copies (a file, or a record as FILE:ID)."""
    from .explain import explain, render_explanation  # here: a scan need not import it

    config = config_from(options)
    try:
        found = explain(a, b, config)
    except DedupError as exc:
        raise FatalError(str(exc)) from exc
    show_report(lambda console: render_explanation(found, console))


@main.command("corpus")
@click.argument("out", metavar="OUT", type=click.Path(path_type=Path))
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed writes the same bytes.")
@click.option("--articles", type=click.IntRange(min=0), default=60, show_default=True, help="Generated base articles.")
@click.option(
    "--samples",
    type=click.Path(file_okay=False, path_type=Path),
    help="A folder with 000_*.txt to 004_*.txt to copy in.  [default: the samples shipped with dedup]",
)
@click.option("--no-samples", is_flag=True, help="Leave the samples out.")
def corpus_command(out: Path, seed: int, articles: int, samples: Path | None, no_samples: bool) -> None:
    """Write a labelled near-duplicate corpus (files, records.jsonl, truth.jsonl) into OUT."""
    from . import corpus  # here: a scan need not import it

    try:
        stats = corpus.generate(
            out, seed=seed, articles=articles, samples=None if no_samples else samples or corpus.SAMPLES_DIR
        )
    except DedupError as exc:
        raise FatalError(str(exc)) from exc
    except OSError as exc:
        raise FatalError(f"cannot write the corpus into {click.format_filename(str(out))}: {_strerror(exc)}") from exc
    click.echo(
        f"wrote {stats.documents:,} documents ({stats.files:,} files, {stats.records:,} records) from "
        f"{stats.bases:,} articles into {click.format_filename(str(stats.out_dir))}: {stats.clusters:,} clusters "
        f"of copies, {stats.singletons:,} singletons; truth in {click.format_filename(str(stats.out_dir / 'truth.jsonl'))}"
    )


@main.command("apply")
@click.argument("export_file", metavar="SCAN_JSON", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--quarantine", "quarantine", metavar="DIR", help="Move each dropped file into DIR, keeping its relative path."
)
@click.option("--link", "link", is_flag=True, help="Replace each dropped file by a hard link to its kept copy.")
@click.option("--symlink", is_flag=True, help="Replace each dropped file by a symbolic link to its kept copy.")
@click.option("--copy-kept", metavar="DIR", help="Copy every unique and kept file into DIR, keeping relative paths.")
@click.option("--delete", is_flag=True, help="Delete each dropped file (needs --yes; undo cannot bring it back).")
@click.option(
    "--write",
    "write_file",
    type=click.Path(path_type=Path),
    help="Write the records not dropped (JSON Lines, JSON, Parquet inputs) to FILE (.jsonl, .json or .parquet).",
)
@click.option(
    "--annotate", is_flag=True, help="--write: add a _dedup field (cluster, decision, rule, kept id) to each record."
)
@click.option("--supersets", is_flag=True, help="Act on supersets too (members with text of their own).")
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the manifest.")
@click.option("-y", "--yes", is_flag=True, help="Act without asking.")
def apply_command(
    export_file: Path,
    quarantine: str | None,
    link: bool,
    symlink: bool,
    copy_kept: str | None,
    delete: bool,
    write_file: Path | None,
    annotate: bool,
    supersets: bool,
    manifest: Path | None,
    yes: bool,
) -> None:
    """Act on a scan's JSON export: without an action, print the plan and change nothing."""
    from . import applycmd  # here: a scan need not import it

    chosen = [
        name for name, on in (("link", link), ("symlink", symlink), ("delete", delete), ("copy", copy_kept)) if on
    ]
    if quarantine and not chosen:
        chosen = ["quarantine"]
    if len(chosen) > 1 or (quarantine and chosen[0] in ("delete", "copy")):
        raise click.UsageError("choose one of --quarantine, --link, --symlink, --copy-kept, --delete")
    if delete and not yes:
        raise click.UsageError("--delete needs --yes (deleted files cannot be restored)")
    action = chosen[0] if chosen else None

    def confirm(plan: object) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            raise click.UsageError("not a terminal to ask: add --yes to act")
        return click.confirm("Go ahead?", default=False)

    try:
        code = applycmd.apply_scan(
            export_file,
            action,
            folder=quarantine or copy_kept,
            manifest=manifest,
            supersets=supersets,
            write=write_file,
            annotate=annotate,
            confirm=confirm,
            say=click.echo,
            version=__version__,
        )
    except DedupError as exc:
        raise FatalError(str(exc)) from exc
    sys.exit(code)


@main.command("undo")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def undo_command(manifest: Path) -> None:
    """Put back what `dedup apply` changed, from its MANIFEST; exit 1 if a step was refused."""
    from . import applycmd

    try:
        code = applycmd.undo_run(manifest, click.echo)
    except DedupError as exc:
        raise FatalError(str(exc)) from exc
    sys.exit(code)
