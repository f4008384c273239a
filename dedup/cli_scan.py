"""``dedup scan``: options -> ScanConfig -> scan() -> report and exports."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__, export, report, usage
from .cli_common import FatalError, cache_file, cache_options, config_from, run_scan, scan_options, show_report
from .cli_outputs import check_outputs
from .errors import DedupError


@click.command("scan", cls=usage.Command)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@scan_options
@cache_options
@click.option(
    "-o",
    "--output",
    "output_arg",
    type=click.Path(allow_dash=True),
    help="Write the clusters to FILE (.json, .jsonl, .csv; - for stdout); with --engine ray, DIR/ for Parquet shards.",
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
    output_arg: str | None,
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
    output, shards = _output(output_arg, engine, fmt)
    if fmt and output is None and shards is None:
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
        if shards is not None:
            from .ray_output import write_shards

            write_shards(result, shards, version=__version__)
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
        written = {option: str(path) for option, path in outputs if path is not None}
        show_report(lambda console: report.render(result, console, verbose=verbose, top=top, written=written))
    if fail_on_duplicates and result.summary.duplicates:
        sys.exit(1)


def _output(raw: str | None, engine: str, fmt: str | None) -> tuple[Path | None, Path | None]:
    """``--output``: (a file to export to, a folder of Parquet shards); at most one is set."""
    if raw is None:
        return None, None
    from .ray_output import check_shard_folder, is_shard_folder

    if not (raw.endswith(("/", os.sep)) or (engine == "ray" and is_shard_folder(raw))):
        return Path(raw), None
    if engine != "ray":
        raise click.UsageError("--output DIR/ (a folder of Parquet shards) needs --engine ray")
    if fmt not in (None, "parquet"):
        raise click.UsageError(f"--format {fmt} contradicts --output DIR/ (a folder of Parquet shards): drop one")
    try:
        check_shard_folder(Path(raw))
    except DedupError as exc:
        raise FatalError(str(exc)) from exc
    return None, Path(raw)


def _top(value: str) -> int | None:
    """``--top``: a count of clusters (0 or more), or ``all`` (None)."""
    if value.strip().lower() == "all":
        return None
    if not value.strip().isdigit():
        raise click.BadParameter(f"{value!r} is not a number of clusters or 'all'")
    return int(value)


def _check_format(output: Path, fmt: str | None) -> None:
    """``--format`` that contradicts the extension of FILE is a usage error (which one was meant?)."""
    try:
        by_suffix = export.format_for(output)
    except DedupError:
        return  # the extension names no format: --format says it
    if fmt is not None and fmt != by_suffix:
        name = click.format_filename(str(output))
        raise click.UsageError(f"--format {fmt} contradicts the extension of {name} ({by_suffix}): drop one")
