"""Checks of a command's output paths made before its scan: two outputs naming one file,
a folder that cannot take the file, an output that is one of the scan's inputs."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

import click

from .cli_common import FatalError, strerror
from .config import ScanConfig
from .errors import ConfigError, DedupError
from .records import Skipped


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
        raise FatalError(f"cannot write {option} {name}: {strerror(exc)}") from exc
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
