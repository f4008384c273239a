"""The ``dedup`` command: options -> ScanConfig -> scan() -> report and exports.

Exit codes, as diff and grep use them: 0 the run finished (skipped files are reported,
not failures); 1 duplicates were found and ``--fail-on-duplicates`` was given; 2 a usage
error or a fatal one (a missing path, an export that cannot be written).
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console

from . import __version__, export, report
from . import cache as sigcache
from .config import ScanConfig
from .errors import DedupError
from .pipeline import candidate_loss, pair_measures, scan
from .records import ScanResult

if TYPE_CHECKING:
    from rich.progress import Progress

F = TypeVar("F", bound=Callable[..., Any])
_DEFAULTS = ScanConfig()


class FatalError(click.ClickException):
    """A run that cannot go on: "Error: ..." on stderr and exit 2."""

    exit_code = 2


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
        click.option("--text-field", default=_DEFAULTS.text_field, show_default=True, help="JSON/JSONL field with the text."),
        click.option("--id-field", default=_DEFAULTS.id_field, show_default=True, help="JSON/JSONL field with the record id."),
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


def run_scan(paths: tuple[Path, ...], config: ScanConfig, quiet: bool, cache: Path | None) -> ScanResult:
    """scan() with a progress display on stderr when it is a terminal; warnings to stderr."""
    err = Console(stderr=True, highlight=False)
    show = not quiet and err.is_terminal
    try:
        if not show:
            result = scan(paths, config, cache=cache)
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
                result = scan(paths, config, progress=_RichProgress(bar), cache=cache)
    except DedupError as exc:
        raise FatalError(str(exc)) from exc
    for warning in result.warnings:
        err.print(report.display(f"warning: {warning}"))
    return result


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    main()


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
    type=click.Choice(["json", "jsonl", "csv"]),
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
@click.option("--fail-on-duplicates", is_flag=True, help="Exit 1 when any duplicates are found.")
@click.option("-q", "--quiet", is_flag=True, help="No report and no progress: only exports and errors.")
@click.option("-v", "--verbose", is_flag=True, help="List every skipped file in the report.")
def scan_command(
    paths: tuple[Path, ...],
    output: Path | None,
    fmt: str | None,
    keep_list: Path | None,
    drop_list: Path | None,
    fail_on_duplicates: bool,
    quiet: bool,
    verbose: bool,
    cache_dir: Path | None,
    no_cache: bool,
    **options: Any,
) -> None:
    """Scan PATHS (folders and files) for near-duplicate documents."""
    config = config_from(options)
    if fmt and output is None:
        raise click.UsageError("--format needs --output")
    if output is not None and str(output) == "-":
        fmt = fmt or "json"
    elif output is not None:
        try:
            export.format_for(output, fmt)
        except DedupError as exc:
            raise click.UsageError(str(exc)) from exc
    result = run_scan(paths, config, quiet, None if no_cache else cache_file(cache_dir))
    try:
        if output is not None:
            export.write_export(result, output, fmt, version=__version__)
        if keep_list is not None or drop_list is not None:
            export.write_lists(result, keep_list, drop_list)
    except DedupError as exc:
        raise FatalError(str(exc)) from exc
    if not quiet and str(output) != "-":
        report.render(result, Console(highlight=False), verbose=verbose)
    if fail_on_duplicates and result.summary.duplicates:
        sys.exit(1)


@main.group("cache")
def cache_group() -> None:
    """Show or clear the signature cache that makes rescans fast."""


@cache_group.command("info")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder of the signature cache.")
def cache_info(cache_dir: Path | None) -> None:
    """Where the cache is and what it holds."""
    facts = sigcache.info(cache_file(cache_dir))
    click.echo(f"cache: {click.format_filename(str(facts['path']))}")
    if not facts["exists"]:
        click.echo("empty (no cache file yet)")
        return
    click.echo(
        f"files: {facts['files']:,}\ncontents: {facts['contents']:,}\n"
        f"rankings: {facts['rankings']:,}\nscan results: {facts['results']:,}\n"
        f"size: {report.human_bytes(int(str(facts['bytes'])))}"
    )


@cache_group.command("clear")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder of the signature cache.")
def cache_clear(cache_dir: Path | None) -> None:
    """Delete the cache file; the next scan hashes every file again."""
    path = cache_file(cache_dir)
    try:
        found = sigcache.clear(path)
    except OSError as exc:
        raise FatalError(f"cannot delete {click.format_filename(str(path))}: {exc.strerror}") from exc
    click.echo(f"{'deleted' if found else 'no cache at'} {click.format_filename(str(path))}")


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
    from .evaluate import evaluate_result, read_truth, text_similarity  # here: a scan need not import it

    config = config_from(options)
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
    report.render_eval(scores, Console(highlight=False), loss=loss)
