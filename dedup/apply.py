"""``dedup apply``: act on a scan's decisions, safely, from its JSON export.

A plan first: which files would be moved, linked, deleted or copied, and which are left
alone and why. Nothing changes without an action (the CLI asks once, or takes ``--yes``).
Before any change every file to act on, and the kept copy it stands for, is checked
against the scan: still a regular file, the size the scan saw, and the same text (its
text is extracted again and its digest compared with the one in the export). A file that
changed, moved or vanished is left alone with its reason. Then the manifest (manifest.py)
is written, with each file's BLAKE2b digest, and the steps are done; right before each
one the file's stat is compared with the check's.

What is never acted on: a kept copy (the last copy of its cluster), a file that is also
the kept copy of another cluster or holds any document that is kept, a superset (a member
with text of its own) unless asked, and records (``file:id`` documents) as files: their
dataset is written with ``--write`` (records.py of this feature: write_records).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import extract
from .config import ScanConfig
from .dataset import record_documents
from .errors import ConfigError, ExportError, InputError
from .export import read_export
from .formats import compression
from .lists import escape_name, unescape_name
from .manifest import Manifest, blake2b_of, copy_file, make_parents, move_file
from .records import Locator, text_digest
from .stdinput import STDIN

__all__ = [
    "ACTIONS",
    "Plan",
    "Row",
    "Step",
    "build_plan",
    "check_file",
    "check_read",
    "config_of",
    "is_stdin",
    "load_rows",
    "run_plan",
]

#: The actions on files: the first four act on dropped files, ``copy`` on kept ones.
ACTIONS = ("quarantine", "link", "symlink", "delete", "copy")


@dataclass(frozen=True, slots=True)
class Row:
    """One document of the export's decision table, as apply needs it."""

    doc_id: str
    rel: str
    record: int | None
    kind: str
    cluster: int | None
    decision: str
    kept: str | None
    rule: str
    digest: str
    size: int
    root: str
    absolute: str  # the exact name (undecodable bytes as surrogateescape's surrogates)


@dataclass(frozen=True, slots=True)
class Step:
    """One change to make: ``op`` on ``path`` (to ``to``; a link to ``kept``)."""

    op: str  # move, link, symlink, delete, copy
    row: Row
    to: str = ""
    kept: Row | None = None


@dataclass
class Plan:
    """What a run would do, and what it leaves alone with the reason."""

    action: str
    steps: list[Step] = field(default_factory=list)
    left: list[tuple[Row, str]] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(s.row.size for s in self.steps)

    def reasons(self) -> Counter[str]:
        """How many documents are left alone for each reason."""
        return Counter(reason for _, reason in self.left)


def config_of(params: dict[str, Any]) -> ScanConfig:
    """The scan's settings from its export (what extracting a text again depends on)."""
    fields = {k: v for k, v in params.items() if k in ScanConfig.__dataclass_fields__}
    for key in ("include", "exclude", "prefer"):
        if key in fields:
            fields[key] = tuple(fields[key])
    try:
        return ScanConfig(**fields)
    except (ConfigError, TypeError) as exc:
        raise InputError(f"the export's params are not this dedup's: {exc}") from exc


_NEEDS = "dedup apply needs the JSON export of dedup scan (dedup scan ... --output scan.json)"
# Each decision-table column apply reads, and the JSON types it may hold.
_COLUMNS: dict[str, tuple[type, ...]] = {
    "id": (str,), "path": (str,), "record": (int, type(None)), "kind": (str,), "cluster": (int, type(None)),
    "decision": (str,), "kept": (str, type(None)), "rule": (str,), "digest": (str,), "bytes": (int,),
    "root": (str,), "absolute": (str,),
}  # fmt: skip


def _row_problem(d: object) -> str | None:
    """Why a decision-table row cannot be read, or None."""
    if not isinstance(d, dict):
        return "is not an object"
    if not isinstance(d.get("decision"), str):
        return "has no 'decision'"
    if d["decision"] == "skipped":
        return None
    for key, types in _COLUMNS.items():
        value = d.get(key, ...)
        if value is ... or isinstance(value, bool) or not isinstance(value, types):
            return f"has no {key!r}" if value is ... else f"has {key!r} of the wrong type ({value!r:.40})"
    if d["bytes"] < 0:
        return f"has a negative 'bytes' ({d['bytes']})"
    return None


def load_rows(path: Path) -> tuple[list[Row], ScanConfig]:
    """The decision table and settings of a JSON export.

    Raises:
        InputError: not a JSON export, one written before it held the decision table, or a
            table with a row apply cannot read (checked whole before anything is planned).
    """
    data = read_export(path, needs=_NEEDS)
    if "documents" not in data:
        raise InputError(f"{path} holds no decision table: scan again with this dedup to write one")
    if not isinstance(data["documents"], list):
        raise InputError(f"{path} is not a whole scan export: 'documents' is not a list")
    if not isinstance(data.get("params", {}), dict):
        raise InputError(f"{path} is not a whole scan export: 'params' is not an object")
    rows = []
    for n, d in enumerate(data["documents"], start=1):
        problem = _row_problem(d)
        if problem is not None:
            raise InputError(f"{path} is not a whole scan export: document {n} {problem}")
        if d["decision"] == "skipped":
            continue
        escaped = d.get("absolute_escaped")
        absolute = unescape_name(escaped) if isinstance(escaped, str) and escaped else d["absolute"]
        rows.append(
            Row(d["id"], d["path"], d["record"], d["kind"], d["cluster"], d["decision"], d["kept"], d["rule"], d["digest"],
                d["bytes"], d["root"], absolute)
        )  # fmt: skip
    return rows, config_of(data.get("params", {}))


def is_stdin(row: Row) -> bool:
    """Was this document read from standard input? Its file was a temporary copy, gone with
    the scan (``absolute`` is ``-``; exports before that named the copy under a root ``-``)."""
    if row.absolute == STDIN:
        return True
    return (
        row.rel == STDIN and os.path.basename(row.root) == STDIN and os.path.basename(row.absolute).startswith("stdin.")
    )


def _base_folder(rows: Sequence[Row]) -> str:
    """The folder relative paths in a quarantine or copy are kept from: the scanned folder,
    or the folder holding all the roots when there were several (or files)."""
    files = [r for r in rows if not is_stdin(r)]
    roots = {r.root for r in files}
    folders = {os.path.dirname(r) if r in {x.absolute for x in files} else r for r in roots}
    return os.path.commonpath(sorted(folders)) if folders else os.sep


def _below(folder: str, row: Row, base: str) -> str:
    """Where a file goes in ``folder``: its path relative to ``base``, kept."""
    rel = os.path.relpath(row.absolute, base)
    if rel.startswith(os.pardir):
        rel = row.absolute.lstrip(os.sep)
    return os.path.join(os.path.abspath(folder), rel)


_STDIN_LEFT = "standard input (-), not a file: never acted on"


def build_plan(
    rows: Sequence[Row],
    action: str,
    *,
    folder: str | None = None,
    supersets: bool = False,
) -> Plan:
    """The steps of an action, and every dropped (or kept, for ``copy``) document left alone.

    Args:
        rows: the decision table (load_rows).
        action: one of ACTIONS.
        folder: the quarantine folder (also where ``link``/``symlink`` keep the originals),
            or the folder ``copy`` copies to; None for a plan that is only shown.
        supersets: act on supersets too (members with text of their own).

    Raises:
        ConfigError: an unknown action.
    """
    if action not in ACTIONS:
        raise ConfigError(f"unknown action {action!r}")
    plan = Plan(action)
    base = _base_folder(rows)
    by_id = {r.doc_id: r for r in rows}
    if action == "copy":
        for row in rows:
            if row.decision not in ("unique", "kept", "superset"):
                continue
            if is_stdin(row):
                plan.left.append((row, _STDIN_LEFT))
            elif row.record is not None:
                plan.left.append((row, "a record: records are written with --write, not copied as files"))
            else:
                plan.steps.append(Step("copy", row, _below(folder, row, base) if folder else ""))
        return plan
    targets = {"dropped", "superset"} if supersets else {"dropped"}
    # Files that hold a document that stays: never removed, whatever else they hold.
    staying = {r.absolute for r in rows if r.decision not in targets}
    for row in rows:
        if row.decision == "superset" and not supersets:
            plan.left.append((row, "a superset: it has text of its own (act on it with --supersets)"))
            continue
        if row.decision not in targets:
            continue
        kept = by_id.get(row.kept or "")
        if is_stdin(row):
            plan.left.append((row, _STDIN_LEFT))
        elif row.record is not None:
            plan.left.append((row, "a record: records are never acted on as files (see --write)"))
        elif kept is None:
            plan.left.append((row, "its cluster's kept copy is not in the export"))
        elif is_stdin(kept):
            plan.left.append((row, "its kept copy is standard input, which cannot be checked again"))
        elif kept.absolute == row.absolute:
            plan.left.append((row, "the last copy: it is its cluster's kept copy"))
        elif row.absolute in staying:
            plan.left.append((row, "the kept copy of another cluster, or a file holding a kept document"))
        elif action in ("link", "symlink") and kept.record is not None:
            plan.left.append((row, "its kept copy is a record: a file cannot be linked to it"))
        else:
            op = "move" if action == "quarantine" else action
            to = "" if action == "delete" or not folder else _below(folder, row, base)
            plan.steps.append(Step(op, row, to, kept))
    return plan


def check_file(row: Row, config: ScanConfig) -> str | None:
    """Why a file no longer is what the scan saw, or None: a regular file, the same size
    (for a whole file) and the same text (extracted again, digest compared)."""
    return check_read(row, config)[0]


#: What a check read: why the file is not what the scan saw (or None), then the BLAKE2b digest
#: of the bytes it checked and their stat key (None for a file not read in one piece).
Checked = tuple[str | None, str | None, tuple[int, ...] | None]


def check_read(row: Row, config: ScanConfig) -> Checked:
    """check_file, and for a plain whole file the digest and stat of the very bytes whose text
    it compared: one read, so a change between the check and the manifest's digest (or the
    move) cannot pass as checked."""
    shown = escape_name(row.absolute)
    try:
        st = os.lstat(row.absolute)
    except FileNotFoundError:
        return f"vanished since the scan: {shown}", None, None
    except OSError as exc:
        return f"cannot be read: {shown}: {exc.strerror}", None, None
    if stat.S_ISLNK(st.st_mode):  # the scan read through it; apply acts on files only
        return f"is a symbolic link, not a regular file: {shown}", None, None
    if not stat.S_ISREG(st.st_mode):
        return f"is no longer a regular file: {shown}", None, None
    if row.record is None and st.st_size != row.size:
        return f"changed since the scan ({st.st_size:,} bytes, the scan saw {row.size:,}): {shown}", None, None
    digest = key = None
    try:
        if row.record is None and row.kind in extract.WHOLE_KINDS and compression(row.absolute) is None:
            data, opened = _read_once(row.absolute)
            if len(data) != row.size:
                return f"changed since the scan ({len(data):,} bytes, the scan saw {row.size:,}): {shown}", None, None
            text = extract.whole_text(data, row.kind)  # type: ignore[arg-type]
            digest, key = hashlib.blake2b(data).hexdigest(), (opened.st_dev, opened.st_ino, opened.st_size,
                                                              opened.st_mtime_ns)  # fmt: skip
        elif row.record is None:
            text = extract.load_text(Locator(row.absolute), row.kind, config)  # type: ignore[arg-type]
        else:  # a record (a kept copy of a file can be one): its file read again, found by number
            doc = record_documents(row.absolute, row.rel, config).get(row.record)
            if doc is None:
                return f"changed since the scan (record {row.record} is gone): {shown}", None, None
            text = doc.text
    except (OSError, ValueError, RecursionError) as exc:
        return f"cannot be read again: {shown}: {exc}", None, None
    if f"{text_digest(text):016x}" != row.digest:
        return f"changed since the scan (its text differs): {shown}", None, None
    return None, digest, key


def _read_once(path: str) -> tuple[bytes, os.stat_result]:
    """A regular file's bytes and its stat taken before they were read (not through a link).

    Raises:
        OSError: it cannot be opened, or is no longer a regular file.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as f:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise OSError(errno.EINVAL, "no longer a regular file")
        return f.read(), opened


def _stat_key(path: str) -> tuple[int, ...] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@dataclass
class Outcome:
    """What a run did: steps done, and those left with the reason (checks or failures)."""

    done: int = 0
    bytes: int = 0
    checked: int = 0  # steps that passed the checks (0: nothing was changed, nothing written)
    left: list[tuple[Row, str]] = field(default_factory=list)


def run_plan(
    plan: Plan,
    config: ScanConfig,
    manifest_path: Path,
    *,
    scan: str,
    version: str,
    folder: str | None = None,
    on_step: Callable[[int], None] | None = None,
) -> Outcome:
    """Check every file, write the manifest, then make the plan's changes one by one.

    Args:
        plan: from build_plan.
        config: the scan's settings (config_of), for extracting texts again.
        manifest_path: where the manifest goes (written before the first change).
        scan: the export the plan came from (recorded in the manifest).
        version: the dedup version (recorded).
        folder: the folder files go to, made once a file passed its checks (not for a run
            that can do nothing: it leaves no folder and no manifest).
        on_step: called with the number of each step before it is made (tests stop runs
            halfway through it).

    Returns:
        The counts, and every file left alone with its reason.
    """
    outcome = Outcome()
    checked: dict[str, Checked] = {}

    def check(row: Row) -> Checked:
        if row.doc_id not in checked:
            checked[row.doc_id] = check_read(row, config)
        return checked[row.doc_id]

    ready: list[tuple[Step, str, tuple[int, ...] | None]] = []
    for step in plan.steps:
        why, digest, seen = check(step.row)
        if why is None and step.kept is not None:
            kept_why = check(step.kept)[0]
            if kept_why is not None:
                why = f"{escape_name(step.row.absolute)}: its kept copy {kept_why}"
            elif _same_file(step.row.absolute, step.kept.absolute):
                why = f"the same file as its kept copy: {escape_name(step.kept.absolute)}"
        if why is None and digest is None:  # not read in one piece by the check (a compressed file)
            seen = _stat_key(step.row.absolute)
            digest = blake2b_of(step.row.absolute)
        if why is None and digest is None:
            why = f"cannot be read: {escape_name(step.row.absolute)}"
        if why is not None:
            outcome.left.append((step.row, why))
            continue
        ready.append((step, str(digest), seen))
    outcome.checked = len(ready)
    if not ready:
        return outcome
    entries = [
        {
            "op": s.op,
            "id": escape_name(s.row.doc_id),
            "path": escape_name(s.row.absolute),
            "to": escape_name(s.to),
            "kept": escape_name(s.kept.absolute) if s.kept is not None and s.op in ("link", "symlink") else "",
            "blake2b": digest,
            "bytes": s.row.size,
            "status": "planned",
        }
        for s, digest, _ in ready
    ]
    manifest = Manifest.new(manifest_path, plan.action, scan, version, entries)
    _start(manifest, folder)
    created: list[str] = []
    for n, ((step, _digest, seen), entry) in enumerate(zip(ready, entries, strict=True)):
        if on_step is not None:
            on_step(n)
        if _stat_key(step.row.absolute) != seen:
            why = f"changed since it was checked: {escape_name(step.row.absolute)}"
        else:
            why = _make(step, created)
        manifest.data["folders"] = [escape_name(f) for f in created]
        if why is None:
            entry["status"] = "done"
            outcome.done += 1
            outcome.bytes += step.row.size
        else:
            # "failed": the original did not get back to its place, so undo must see the step
            status = "failed" if isinstance(why, _Stranded) else "skipped"
            entry["status"], entry["reason"] = status, why
            outcome.left.append((step.row, why))
        _record(manifest, plan.action, outcome, len(ready), now=False)
    manifest.data["state"] = "finished"
    _record(manifest, plan.action, outcome, len(ready), now=True)
    return outcome


def _record(manifest: Manifest, action: str, outcome: Outcome, planned: int, *, now: bool) -> None:
    """Rewrite the manifest as the run goes; when it cannot be (a full disk), stop the run
    and say what was done: the copy on disk lists every step, and undo looks at the files.

    Raises:
        ExportError: the manifest cannot be written.
    """
    try:
        manifest.save(now=now)
    except ExportError as exc:
        back = "" if action == "delete" else f": dedup undo {escape_name(str(manifest.path))} puts them back"
        raise ExportError(f"{exc}; the run stopped with {outcome.done:,} of {planned:,} changes made{back}") from exc


def _start(manifest: Manifest, folder: str | None) -> None:
    """Make the target folder and write the manifest, before any change; on failure (a
    read-only file system, a full disk) remove the folders it made and stop the run. The
    target folder is not among the manifest's folders: undo leaves it, as before.

    Raises:
        ExportError: the folder or the manifest cannot be written.
    """
    made: list[str] = []
    where = str(manifest.path)
    try:
        if folder:
            where = folder
            make_parents(os.path.join(folder, "."), made)  # the folder and any above it
            where = str(manifest.path)
        manifest.save()
    except (OSError, ExportError) as exc:
        for path in reversed(made):
            with contextlib.suppress(OSError):
                os.rmdir(path)
        if isinstance(exc, ExportError):
            raise
        raise ExportError(f"cannot write {where}: {exc.strerror or exc}") from exc


def _same_file(a: str, b: str) -> bool:
    try:
        x, y = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (x.st_dev, x.st_ino) == (y.st_dev, y.st_ino)


class _Stranded(str):
    """The reason a link step failed after its original was moved, when the original could
    not be moved back (something took its place meanwhile): it is where the move put it."""


def _make(step: Step, created: list[str]) -> str | None:
    """Make one change; the reason it failed (nothing lost), or None."""
    path = step.row.absolute
    try:
        if step.op == "delete":
            os.unlink(path)
        elif step.op == "copy":
            if os.path.lexists(step.to):
                return f"something is already at {escape_name(step.to)}"
            make_parents(step.to, created)
            copy_file(path, step.to)
        else:
            move_file(path, step.to, created)
            if step.op in ("link", "symlink") and step.kept is not None:
                try:
                    _link(step.op, step.kept.absolute, path)
                except OSError as exc:
                    try:
                        move_file(step.to, path, created)  # put the original back where it was
                    except OSError:
                        return _Stranded(
                            f"{escape_name(path)}: {exc.strerror or exc}; the original is at {escape_name(step.to)}"
                        )
                    raise
    except OSError as exc:
        return f"{escape_name(path)}: {exc.strerror or exc}"
    return None


def _link(op: str, kept: str, path: str) -> None:
    """Put a hard or symbolic link to ``kept`` at ``path``, which the move just freed. Made in
    place, not renamed over it: link and symlink fail on a name that is taken (a rename would
    replace a file that came there meanwhile), and a temporary name beside it would not fit
    when ``path``'s name is near the 255-byte limit."""
    if op == "link":
        os.link(kept, path)
    else:
        os.symlink(kept, path)
