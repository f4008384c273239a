"""What ``dedup apply`` and ``dedup undo`` print and decide, between the CLI and apply.py.

The CLI parses options and calls :func:`apply_scan` or :func:`undo_run`; they print the plan
and outcome with ``say`` and raise DedupError for a run that cannot go on.
"""

from __future__ import annotations

import os
import re
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from .apply import Outcome, Plan, Row, build_plan, is_stdin, load_rows, run_plan
from .dataset import RecordRow, write_records
from .errors import ConfigError, InputError, Interrupted
from .lists import escape_name
from .manifest import undo
from .ray_input import is_url
from .report import human_bytes
from .wording import count

__all__ = ["SHOWN", "apply_scan", "describe", "fitted", "shown_id", "undo_run"]

SHOWN = 10  # plan rows shown before "... and N more"
_VERBS = {"quarantine": "move", "link": "hard-link", "symlink": "symlink", "delete": "delete", "copy": "copy"}


def _size(n: int) -> str:
    """Bytes as the scan report writes them (decimal units: 6.8 KB is 6,800 bytes)."""
    return human_bytes(n)


# An undecodable byte as the export writes it in an id (``export_text``: 0xe9 -> "\\xe9").
_EXPORTED_BYTE = re.compile(r"\\x([89a-f][0-9a-f])")


def shown_id(exported: str) -> str:
    """An id from the export as the scan report and the lists write it (``escape_name`` of
    the name): the export writes an undecodable byte as ``\\xe9`` and leaves backslashes
    alone, so escaping its text again would show ``lat\\\\xe9.txt`` for ``lat\\xe9.txt``."""
    return escape_name(_EXPORTED_BYTE.sub(lambda m: chr(0xDC00 + int(m[1], 16)), exported))


def describe(plan: Plan, say: Callable[[str], None], *, shown: int = SHOWN) -> None:
    """The plan: counts and bytes, the first steps, and what is left alone and why."""
    verb = _VERBS[plan.action]
    files = "kept and unique file" if plan.action == "copy" else "dropped file"
    say(f"Plan: {verb} {count(len(plan.steps), files)} ({_size(plan.bytes)})")
    for step in plan.steps[:shown]:
        where = f" -> {escape_name(step.to)}" if step.to else ""
        kept = f" (kept: {shown_id(step.kept.doc_id)})" if step.kept is not None else ""
        say(f"  {verb} {escape_name(step.row.absolute)}{where}{kept}")
    if len(plan.steps) > shown:
        say(f"  ... and {len(plan.steps) - shown:,} more")
    if plan.left:
        say(f"Left alone: {len(plan.left):,}")
        for reason, n in sorted(plan.reasons().items()):
            say(f"  {n:,} {reason}")


def fitted(say: Callable[[str], None], width: int | None = None) -> Callable[[str], None]:
    """``say`` with each line wrapped to the terminal's width (``COLUMNS``, else the
    terminal's): a long path goes on over indented lines, so no line is wider than the
    screen. Output to a file or pipe with no ``COLUMNS`` is not wrapped (paths stay whole)."""
    cols = width or _width()
    if cols is None:
        return lambda line: say(line.rstrip())
    cols = max(cols, 20)

    def wrapped(line: str) -> None:
        if len(line) <= cols:
            say(line.rstrip())
            return
        indent = line[: len(line) - len(line.lstrip(" "))]
        for part in textwrap.wrap(
            line, cols, subsequent_indent=indent + "    ", break_on_hyphens=False, drop_whitespace=True
        ):
            say(part.rstrip())

    return wrapped


def _width() -> int | None:
    """The width lines must fit: ``COLUMNS`` when set, else the terminal's; None for neither."""
    env = os.environ.get("COLUMNS", "")
    if env.strip().isdigit() and int(env) > 0:
        return int(env)
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns if sys.stdout.isatty() else None
    except (OSError, ValueError, AttributeError):
        return None


def _manifest_path(action: str, folder: str | None, given: Path | None) -> Path:
    """Where the manifest goes: as given; in the quarantine folder; beside the copy folder;
    else in the working directory under a dated name."""
    if given is not None:
        return given
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    if action == "quarantine" and folder:
        return Path(folder) / "dedup-manifest.json"
    if action == "copy" and folder:
        f = Path(folder).resolve()
        return f.parent / f"{f.name}.dedup-manifest.json"
    if folder:
        return Path(folder) / "dedup-manifest.json"
    return Path(f"dedup-{action}-{stamp}.json")


def apply_scan(
    export: Path,
    action: str | None,
    *,
    folder: str | None,
    manifest: Path | None,
    supersets: bool,
    write: Path | None,
    annotate: bool,
    confirm: Callable[[Plan], bool],
    say: Callable[[str], None],
    version: str,
) -> int:
    """Plan, and with an action and a yes, act. Returns the exit code: 0, or 1 when an action
    could do nothing (every planned file changed since the scan: no folder, no manifest; or
    every change failed, as on a read-only source: the manifest says why).

    Raises:
        InputError: the export cannot be read.
        ConfigError: the options do not fit together, or the manifest's place is taken.
    """
    say = fitted(say)
    if annotate and write is None:
        raise ConfigError("--annotate adds a field to the records --write writes: give --write FILE too")
    rows, config = load_rows(export)
    remote = next((r.root for r in rows if is_url(r.absolute)), None)
    if remote is not None:  # the scan read copies of s3:// files, gone since: the data is in the bucket
        why = "dedup apply acts only on local files, not a bucket's"
        raise InputError(f"{export} names files read from {escape_name(remote)}: {why}")
    if write is not None:
        _write_dataset(rows, config, write, annotate, supersets, say)
    if action is None and write is not None:
        return 0
    if action in ("link", "symlink") and not folder:
        folder = f"dedup-originals-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    plan = build_plan(rows, action or "quarantine", folder=folder, supersets=supersets)
    if action is None:
        describe(plan, say)
        say("Nothing changed (a dry run). To act, add one of:")
        say("  --quarantine DIR, --link, --symlink, --copy-kept DIR, --delete")
        return 0
    if action in ("quarantine", "copy") and not folder:
        raise ConfigError(f"{action} needs a folder")
    if folder and _inside_inputs(folder, rows):
        raise ConfigError(f"{folder} is inside a scanned folder: choose a folder outside what was scanned")
    option = "--copy-kept" if action == "copy" else "--quarantine"
    for name, given, path in ((option, folder, folder), ("--manifest", manifest, manifest and manifest.parent)):
        blocking = _not_a_folder(str(path)) if path else None
        if blocking is not None:  # one clear line, not "File exists" from the mkdir
            raise ConfigError(f"{name} {escape_name(str(given))}: {escape_name(blocking)} is a file, not a folder")
    where = _manifest_path(action, folder, manifest)
    if where.exists():
        raise ConfigError(f"{where} exists: undo that run first, or give --manifest another file")
    describe(plan, say)
    if not plan.steps:
        say("Nothing to do.")
        return 0
    if not confirm(plan):
        say("Nothing changed.")
        return 0
    try:
        outcome = run_plan(plan, config, where, scan=str(export), version=version, folder=folder)
    except Interrupted:
        if where.exists() and action != "delete":  # the run had begun: say the way back
            say(f"Stopped midway: dedup undo {where} puts back what was done")
        raise
    if not outcome.checked:
        n = len(plan.steps)
        which = "the planned file was" if n == 1 else f"all {n:,} planned files were"
        say(f"Nothing changed: {which} left alone (no manifest written)")
        _left(outcome, say)
        return 1
    _report(outcome, action, where, say)
    return 0 if outcome.done else 1  # every change failed (a read-only source): not success


def _not_a_folder(folder: str) -> str | None:
    """The folder, or the nearest existing one above it, when it is something else than a
    folder (``--quarantine notes.txt``), or None: the run could not make it."""
    path = os.path.abspath(folder)
    while not os.path.lexists(path):
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent
    return None if os.path.isdir(path) else path


def _inside_inputs(folder: str, rows: list[Row]) -> bool:
    """Would the folder be scanned next time (inside a scanned folder)? Compared with links
    resolved: a link outside that leads inside is inside."""
    target = os.path.realpath(folder)
    roots = {os.path.realpath(r.root) for r in rows if r.root != r.absolute}
    return any(target == root or target.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def _report(outcome: Outcome, action: str, manifest: Path, say: Callable[[str], None]) -> None:
    verb = {"quarantine": "moved", "link": "linked", "symlink": "linked", "delete": "deleted", "copy": "copied"}
    say(f"Done: {verb[action]} {count(outcome.done, 'file')} ({_size(outcome.bytes)}). Manifest: {manifest}")
    _left(outcome, say)
    if action != "delete" and outcome.done:
        say(f"To put everything back: dedup undo {manifest}")


def _left(outcome: Outcome, say: Callable[[str], None]) -> None:
    if outcome.left:
        say(f"Not acted on: {len(outcome.left):,}")
        for _row, reason in outcome.left[:SHOWN]:
            say(f"  {reason}")
        if len(outcome.left) > SHOWN:
            say(f"  ... and {len(outcome.left) - SHOWN:,} more" + (" (see the manifest)" if outcome.checked else ""))


def _write_dataset(
    rows: list[Row], config: object, out: Path, annotate: bool, supersets: bool, say: Callable[[str], None]
) -> None:
    """The records that are not dropped, to ``out``."""
    inputs = {r.absolute for r in rows}
    if os.path.abspath(out) in inputs:
        raise ConfigError(f"--write {out} is one of the scanned files")
    records = [
        RecordRow(r.record, r.decision, r.cluster, r.rule, r.kept, r.digest, r.absolute, r.rel)
        for r in rows
        if r.record is not None and not is_stdin(r)
    ]
    piped = any(r.record is not None and is_stdin(r) for r in rows)
    if not records and piped:
        raise InputError("--write: the scan's records came from standard input, which cannot be read again")
    if not records:
        raise InputError("--write: the scan holds no records (JSON Lines or JSON inputs)")
    done = write_records(records, config, out, annotate=annotate, supersets=supersets)  # type: ignore[arg-type]
    say(
        f"Wrote {count(done.written, 'record')} of {count(done.files, 'file')} to {out} "
        f"({count(done.dropped, 'dropped record')} left out)"
    )
    for path, reason in done.left:
        say(f"  left out {path}: {reason}")
    if piped:
        say("  left out -: standard input, which cannot be read again")


def undo_run(manifest: Path, say: Callable[[str], None]) -> int:
    """Undo an apply run; 0 when everything was put back, 1 when a step was refused."""
    say = fitted(say)
    result = undo(manifest)
    if not (result.restored or result.untouched or result.refused):
        if result.earlier:
            say(f"Nothing to undo: every step of {manifest} was undone before.")
        else:
            say(f"Nothing to undo: the run of {manifest} changed no file ({count(result.skipped, 'file')} left alone).")
        return 0
    undone = "1 step had" if result.untouched == 1 else f"{result.untouched:,} steps had"
    say(f"Restored {count(result.restored, 'file')}" + (f" ({undone} not been done)." if result.untouched else "."))
    for _path, reason in result.refused:
        say(f"  refused: {reason}")
    if result.unsaved:
        warn = f"warning: {result.unsaved}; the manifest does not record this undo (running it again is safe)"
        print(warn, file=sys.stderr)
    return 1 if result.refused else 0
