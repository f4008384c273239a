"""The manifest of a ``dedup apply`` run, the file moves it makes, and ``dedup undo``.

The manifest is JSON (schema ``dedup.manifest/1``), written atomically before the first
change with every planned step and its file's BLAKE2b digest, and rewritten as steps are
done (at most every half second, and at the end). Paths are absolute and escaped by
``lists.escape_name``, so names that are not valid UTF-8 or hold line breaks are exact.

Undo does not trust the recorded status of a step: a run killed with SIGKILL may have
done a step it had not yet recorded. It looks at the files instead (is the original at
its place with its digest, is the moved copy at the other place with the same digest)
and finishes or reverses what it finds, so any point at which a run stopped can be undone.
A step whose files changed since is refused with the reason, and nothing is overwritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .atomic import process_alive, temp_stem, write_text_atomic
from .errors import ExportError, InputError
from .lists import escape_name, unescape_name
from .noreplace import rename_noreplace

__all__ = [
    "SCHEMA",
    "Manifest",
    "UndoResult",
    "blake2b_of",
    "copy_file",
    "link_temp",
    "make_parents",
    "move_file",
    "temp_name",
    "undo",
]

SCHEMA = "dedup.manifest/1"
_SAVE_EVERY = 0.5  # seconds between rewrites of the manifest while a run goes on
_CHUNK = 1 << 20


def blake2b_of(path: str) -> str | None:
    """The BLAKE2b digest (hex) of a regular file's bytes, or None if it is not one now."""
    try:
        with open(path, "rb", opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW)) as f:
            if not _is_regular(os.fstat(f.fileno()).st_mode):
                return None
            h = hashlib.blake2b()
            while chunk := f.read(_CHUNK):
                h.update(chunk)
            return h.hexdigest()
    except OSError:
        return None


def _is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


def make_parents(path: str, created: list[str]) -> None:
    """Create the folders above ``path`` that are missing, recording each one made."""
    parent = os.path.dirname(path)
    missing = []
    while parent and not os.path.isdir(parent):
        missing.append(parent)
        parent = os.path.dirname(parent)
    for folder in reversed(missing):
        os.mkdir(folder)
        created.append(folder)


def move_file(src: str, dst: str, created: list[str]) -> None:
    """Move a file to a place that must be free; across file systems by copy, fsync, rename
    and then unlinking the original (so a stop in between leaves two whole copies).

    Raises:
        FileExistsError: something is at ``dst``.
        OSError: the move failed; the original is where it was.
    """
    if os.path.lexists(dst):
        raise FileExistsError(f"something is already at {escape_name(dst)}")
    make_parents(dst, created)
    try:
        _rename_free(src, dst)  # not os.rename: a file that came to dst meanwhile would be replaced
        return
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno != 18:  # EXDEV: another file system
            raise
    copy_file(src, dst)
    try:
        os.unlink(src)
    except OSError:
        # The original stays (a read-only or immutable source): the copy just made goes, or
        # it would be left in the target as a second copy that undo, seeing no move, skips.
        with contextlib.suppress(OSError):
            os.unlink(dst)
        raise


def _rename_free(src: str, dst: str) -> None:
    """Rename to a name that must be free, in one step (noreplace.py), saying so when it is not."""
    try:
        rename_noreplace(src, dst)
    except FileExistsError:
        raise FileExistsError(f"something is already at {escape_name(dst)}") from None


def temp_name(dst: str) -> str:
    """The name of the file made before it is renamed to ``dst``: ``dst``'s own, cut and
    tagged when it is near the file system's 255-byte limit (atomic.temp_stem)."""
    return f".{temp_stem(os.path.basename(dst))}.{os.getpid()}.dedup-tmp"


def copy_file(src: str, dst: str) -> None:
    """Copy bytes, mode and times to a new file beside ``dst``, fsync, then rename it in."""
    tmp = os.path.join(os.path.dirname(dst), temp_name(dst))
    try:
        with open(src, "rb") as fin, open(tmp, "xb") as fout:
            shutil.copyfileobj(fin, fout, _CHUNK)
            fout.flush()
            os.fsync(fout.fileno())
        shutil.copystat(src, tmp)
        _rename_free(tmp, dst)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@dataclass
class Manifest:
    """A run's record of its steps; ``save`` writes it all or nothing."""

    path: Path
    data: dict[str, Any]
    _saved_at: float = 0.0

    @classmethod
    def new(cls, path: Path, action: str, scan: str, version: str, steps: list[dict[str, Any]]) -> Manifest:
        data = {
            "schema": SCHEMA,
            "version": version,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "scan": escape_name(os.path.abspath(scan)),
            "action": action,
            "state": "running",
            "folders": [],
            "steps": steps,
        }
        return cls(path, data)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Read a manifest.

        Raises:
            InputError: not readable, not JSON, or not a dedup manifest.
        """
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read {path}: {exc}") from exc
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise InputError(f'{path} is not a dedup apply manifest (no "schema": "{SCHEMA}")')
        problem = _malformed(data)
        if problem is not None:
            raise InputError(f"{path} is not a whole dedup apply manifest: {problem}")
        return cls(path, data)

    @property
    def steps(self) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = self.data["steps"]
        return steps

    def save(self, *, now: bool = True) -> None:
        """Write the manifest (atomically); unless ``now``, only if the last write is old."""
        if not now and time.monotonic() - self._saved_at < _SAVE_EVERY:
            return
        write_text_atomic(self.path, json.dumps(self.data, ensure_ascii=False, indent=1) + "\n")
        self._saved_at = time.monotonic()


_OPS = ("move", "link", "symlink", "delete", "copy")


def _malformed(data: dict[str, Any]) -> str | None:
    """What makes a manifest unusable for undo (checked before any step is undone), or None."""
    steps = data.get("steps")
    if not isinstance(steps, list):
        return 'no "steps" list'
    if not isinstance(data.get("folders", []), list) or not all(isinstance(f, str) for f in data.get("folders", [])):
        return '"folders" is not a list of paths'
    for n, step in enumerate(steps, start=1):
        if not isinstance(step, dict):
            return f"step {n} is not an object"
        if step.get("op") not in _OPS:
            return f"step {n} has no known op (one of {', '.join(_OPS)})"
        need = ["path", "blake2b"] + ([] if step["op"] == "delete" else ["to"])
        need += ["kept"] if step["op"] in ("link", "symlink") else []
        for key in need:
            if not isinstance(step.get(key), str) or not step[key]:
                return f"step {n} has no {key!r}"
    return None


def exact(path: str) -> str:
    """A manifest path back as the file system name."""
    return unescape_name(path)


@dataclass
class UndoResult:
    """What undo did: counts per outcome, and the steps it refused with their reasons."""

    restored: int = 0
    untouched: int = 0  # steps that had not been done: nothing to put back
    skipped: int = 0  # steps the run itself did not make (left alone at its checks or failed safely)
    earlier: int = 0  # steps an earlier undo put back
    unsaved: str = ""  # why the manifest could not be updated, if it could not
    refused: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def _state(path: str, digest: str) -> str:
    """``same`` (a regular file with the digest), ``missing``, or ``other``."""
    if not os.path.lexists(path):
        return "missing"
    return "same" if blake2b_of(path) == digest else "other"


def _is_our_link(path: str, kept: str, op: str) -> bool:
    """Is ``path`` the link apply put there (a symlink to ``kept``, or a hard link of it)?"""
    try:
        if op == "symlink":
            return os.path.islink(path) and os.readlink(path) == kept
        a, b = os.lstat(path), os.stat(kept)
        return not os.path.islink(path) and (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
    except OSError:
        return False


_TEMP_END = ".dedup-tmp"


@dataclass
class _Temps:
    """The partial copies (``temp_name``) found per folder, listed once per undo."""

    found: dict[str, list[str]] = field(default_factory=dict)

    def remove_stale(self, dst: str) -> None:
        """Delete the partial copies toward ``dst`` that a killed run left (a copy across file
        systems stopped by SIGKILL): their names carry the pid, and that process is gone."""
        folder = os.path.dirname(dst)
        if folder not in self.found:
            try:
                self.found[folder] = [n for n in os.listdir(folder or ".") if n.endswith(_TEMP_END)]
            except OSError:
                self.found[folder] = []
        head = f".{temp_stem(os.path.basename(dst))}."
        for name in self.found[folder]:
            pid = name[len(head) : -len(_TEMP_END)]
            if name.startswith(head) and pid.isdigit() and not process_alive(int(pid)):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder, name))


def link_temp(path: str) -> str:
    """Where a link was made before it was renamed over ``path`` by apply runs before links
    were made in place (undo still removes one left by such a run)."""
    return os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.dedup-link")


def _undo_step(step: dict[str, Any], created: list[str], temps: _Temps) -> tuple[str, str]:
    """Put one step back: (``restored`` | ``untouched`` | ``refused``, reason)."""
    op, digest = step["op"], step["blake2b"]
    path = exact(step["path"])
    to = exact(step["to"]) if step.get("to") else ""
    for end in (path, to) if to else (path,):
        temps.remove_stale(end)
    here = _state(path, digest)
    shown = escape_name(path)
    if op == "copy":
        there = _state(to, digest)
        if there == "same":
            os.unlink(to)
            return "restored", ""
        if there == "missing":
            return "untouched", ""
        return "refused", f"{escape_name(to)} changed since it was copied: left as it is"
    if op == "delete":
        if here == "same":
            return "untouched", ""
        return "refused", f"{shown} was deleted (--delete): dedup cannot restore it"
    there = _state(to, digest)
    if op in ("link", "symlink"):
        kept = exact(step["kept"])
        tmp = link_temp(path)
        if os.path.lexists(tmp) and _is_our_link(tmp, kept, op):
            os.unlink(tmp)
        if there == "same" and os.path.lexists(path) and _is_our_link(path, kept, op):
            os.unlink(path)
            here = "missing"
    if here == "missing" and there == "same":
        move_file(to, path, created)
        return "restored", ""
    if here == "same" and there == "missing":
        return "untouched", ""
    if here == "same" and there == "same":  # a copy across file systems was not finished
        os.unlink(to)
        return "restored", ""
    if here == "missing" and there == "missing":
        return "refused", f"{shown} is gone, and so is its copy at {escape_name(to)}"
    if here == "other":
        return "refused", f"something else is at {shown} now: left as it is (the original is at {escape_name(to)})"
    return "refused", f"{escape_name(to)} changed since it was moved there: left as it is"


def undo(path: Path) -> UndoResult:
    """Undo an apply run from its manifest: every step, last first.

    Args:
        path: the manifest the run wrote.

    Returns:
        The counts of restored and untouched steps, and the refused ones with reasons.

    Raises:
        InputError: the manifest cannot be read.
    """
    manifest = Manifest.load(path)
    result = UndoResult()
    created: list[str] = []
    temps = _Temps()
    for step in reversed(manifest.steps):
        if step.get("status") == "skipped":
            result.skipped += 1
            continue
        if step.get("status") == "undone":
            result.earlier += 1
            continue
        try:
            outcome, reason = _undo_step(step, created, temps)
        except OSError as exc:
            outcome, reason = "refused", f"{escape_name(exact(step['path']))}: {exc.strerror or exc}"
        if outcome == "restored":
            result.restored += 1
            step["status"] = "undone"
        elif outcome == "untouched":
            result.untouched += 1
            step["status"] = "undone"
        else:
            result.refused.append((step["path"], reason))
            step["status"], step["reason"] = "refused", reason
        _record(manifest, result, now=False)
    for folder in sorted((exact(f) for f in manifest.data.get("folders", [])), key=len, reverse=True):
        with contextlib.suppress(OSError):
            os.rmdir(folder)  # only if empty: a folder apply made and undo emptied
    manifest.data["state"] = "undone" if not result.refused else "partly undone"
    _record(manifest, result, now=True)
    return result


def _record(manifest: Manifest, result: UndoResult, *, now: bool) -> None:
    """Rewrite the manifest as undo goes. A manifest that cannot be written (a full disk,
    which is when undo is needed most) does not stop undo: the record is only a record,
    each step is judged by the files, so running undo again later is safe."""
    try:
        manifest.save(now=now)
    except ExportError as exc:
        result.unsaved = str(exc)
    else:
        if now:  # the last write holds the whole undo, whatever an earlier one missed
            result.unsaved = ""
