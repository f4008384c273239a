"""``dedup apply`` and ``dedup undo``: act on a scan's JSON export, and put back what was done."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__, usage
from .cli_common import FatalError
from .errors import DedupError


@click.command("apply", cls=usage.Command)
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


@click.command("undo", cls=usage.Command)
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def undo_command(manifest: Path) -> None:
    """Put back what `dedup apply` changed, from its MANIFEST; exit 1 if a step was refused."""
    from . import applycmd

    try:
        code = applycmd.undo_run(manifest, click.echo)
    except DedupError as exc:
        raise FatalError(str(exc)) from exc
    sys.exit(code)
