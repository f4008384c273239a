"""Inputs named by URL: any filesystem pyarrow reaches (``file://``, ``s3://``, ``gs://``,
``hdfs://``), for ``dedup scan`` on either engine.

A ``file://`` URL is the local path it names. Any other filesystem's files are copied, with
``pyarrow.fs.copy_files``, into a private temporary folder under the URL's last name, and
that folder is scanned: ids are relative to it as they would be to a local copy, and ranking
re-reads the copies, never the bucket. A ``*`` or ``?`` in the URL's last part picks the
files of its folder that match (``s3://bucket/crawl/*.parquet``). Files by URL (a pattern's
matches, or one file) are copied into a folder of their own, scanned as one root named by
the URL as given, so their ids are their names and not the temporary folder's path.

The copies are gone when the scan ends, so its result names the files by their URLs
(:meth:`Fetched.renamed`): the exports' ``absolute`` column, the ``--absolute`` lists and
``dedup apply``'s plan see ``s3://bucket/key``, never the temporary folder, and apply refuses
such files (:func:`is_url`), whose data is in the bucket.

Copying is not streaming: the run's machine needs the disk for the inputs it names. Reading
on the workers straight from the bucket is not built (docs/scale.md).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import InputError
from .extras import require
from .records import DocTable, ScanResult

#: ``scheme:/...``: a URL, also after ``pathlib`` folded its ``//`` (``file:/tmp/x``). Two
#: letters or more, so a Windows drive (``C:/``) is a path.
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):/+(.*)$")


def is_url(path: str | Path) -> bool:
    """True for ``scheme://...`` (or ``scheme:/...``), false for a path."""
    return _URL.match(str(path)) is not None


def absolute_path(path: str, cwd: str | None = None) -> str:
    """``os.path.abspath(path)`` (against ``cwd`` when given: a caller naming many files asks
    for the working directory once); a URL, a copy's name once the scan ends
    (``Fetched.renamed``), as it is."""
    if is_url(path):
        return path
    if cwd is None:
        return os.path.abspath(path)
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(cwd, path))


def normal_url(path: str | Path) -> str:
    """The URL with its slashes as pyarrow expects them: ``file:///abs``, ``s3://bucket/key``."""
    found = _URL.match(str(path))
    if found is None:
        raise ValueError(f"not a URL: {path}")
    scheme, rest = found.group(1).lower(), found.group(2)
    return f"file:///{rest}" if scheme == "file" else f"{scheme}://{rest}"


class Fetched:
    """The local roots of a scan's inputs; remote files copied into a temporary folder that
    goes at ``close`` (or when this object does)."""

    def __init__(self) -> None:
        self._folder: str | None = None
        self._finalizer: Any = None
        self._urls: dict[Path, str] = {}  # a root's local copy -> the URL as given
        self._places: dict[str, str] = {}  # a copied file or folder -> its own URL

    def local(self, roots: Sequence[Path | str]) -> list[Path]:
        """Each root as a local path: paths as they are, URLs resolved or copied.

        Raises:
            InputError: a URL pyarrow cannot open, or that names nothing.
            MissingExtra: a URL without pyarrow installed.
        """
        out: list[Path] = []
        for root in roots:
            out.extend(self._one(root) if is_url(root) else [Path(root)])
        return out

    def _one(self, root: Path | str) -> list[Path]:
        pa, pafs = _pyarrow_fs(f"reading {root}")
        url = normal_url(root)
        head, _, last = url.rpartition("/")
        pattern = last if any(c in last for c in "*?[") else None
        try:
            fs, path = pafs.FileSystem.from_uri(head if pattern else url)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, ValueError) as exc:
            raise InputError(f"cannot open {url}: {' '.join(str(exc).split())}") from exc
        paths = [path] if pattern is None else self._matching(pafs, fs, path, pattern, url)
        if isinstance(fs, pafs.LocalFileSystem):
            return [Path(p) for p in paths]
        scheme = url.split("://", 1)[0]
        if pattern is None and fs.get_file_info(path).type == pafs.FileType.Directory:
            copy = copy_tree(fs, path, self._temp())
            self._urls[copy] = f"{scheme}://{path}"
            self._places[str(copy)] = _BASES[self._urls[copy]] = f"{scheme}://{path.rstrip('/')}"
            return [copy]
        # Files (a pattern's matches, or one file) go into a folder of their own that is
        # scanned as one root: their ids are their names in it, not the temporary folder's
        # path, which changes from run to run (a file root outside the working directory
        # is named by its whole path).
        folder = _fresh(self._temp(), PurePosixPath(path.rstrip("/")).name or "input")
        folder.mkdir()
        for p in paths:
            self._places[str(copy_tree(fs, p, folder))] = f"{scheme}://{p}"
        self._urls[folder] = f"{scheme}://{path}" + (f"/{pattern}" if pattern else "")
        # A file's rel is its name: it is in the folder the URL names, or the pattern's.
        _BASES[self._urls[folder]] = f"{scheme}://{path}" if pattern else f"{scheme}://{path}".rpartition("/")[0]
        return [folder]

    def named(self, root: Path) -> str:
        """How the result names a root: a copy by its URL, a local path as itself."""
        return self._urls.get(root, str(root))

    def prefixes(self) -> dict[Path, str]:
        """Each copy's name in the rels of its files when several roots are scanned: the URL
        of its folder (a file's, or a pattern's), so that a file's rel is its URL."""
        return {copy: url_base(url) for copy, url in self._urls.items()}

    def url_of(self, path: str) -> str | None:
        """The URL of a local copy's file (or one inside a copied folder); None for a path
        that is no copy."""
        if not self._places:
            return None
        probe = path
        while True:
            url = self._places.get(probe)
            if url is not None:
                return url + path[len(probe) :].replace(os.sep, "/")
            parent = os.path.dirname(probe)
            if parent == probe:
                return None
            probe = parent

    def renamed(self, result: ScanResult) -> ScanResult:
        """``result`` with each copied document's path its URL (the copies go at ``close``);
        a scan of local paths only is given back as it is."""
        if not self._places or not result.docs:
            return result
        docs = result.docs
        cols = dict(docs.columns() if isinstance(docs, DocTable) else DocTable.of(docs).columns())
        urls: dict[str, str] = {}  # a file's records share its path
        for p in cols["path"]:
            if p not in urls:
                urls[p] = self.url_of(p) or p
        cols["path"] = [urls[p] for p in cols["path"]]
        return dataclasses.replace(result, docs=DocTable.from_columns(cols))

    @staticmethod
    def _matching(pafs: Any, fs: Any, folder: str, pattern: str, url: str) -> list[str]:
        """The entries of ``folder`` whose names match ``pattern``, sorted."""
        try:
            infos = fs.get_file_info(pafs.FileSelector(folder, recursive=False))
        except OSError as exc:
            raise InputError(f"cannot list {url}: {' '.join(str(exc).split())}") from exc
        found = sorted(i.path for i in infos if fnmatch.fnmatchcase(PurePosixPath(i.path).name, pattern))
        if not found:
            raise InputError(f"no file matches {url}")
        return found

    def _temp(self) -> Path:
        if self._folder is None:
            self._folder = tempfile.mkdtemp(prefix="dedup-inputs-")
            self._finalizer = weakref.finalize(self, shutil.rmtree, self._folder, True)
        return Path(self._folder)

    def close(self) -> None:
        """Remove the copies (idempotent)."""
        if self._finalizer is not None:
            self._finalizer()


#: A root URL as given -> the URL its files' relative paths are below (the folder; a file's
#: or a pattern's folder), for the rows of files skipped under it, which hold only that path.
#: Kept for the process, as standard input's copies are (stdinput.py).
_BASES: dict[str, str] = {}


def url_base(root: str) -> str:
    """The URL the rels of a root URL's files (as given to the scan) are relative to."""
    return _BASES.get(root) or normal_url(root).rstrip("/")


def url_below(root: str, rel: str) -> str:
    """The URL of the file at ``rel`` under the root URL ``root``: a rel that is a URL
    already (several roots scanned, see ``Fetched.prefixes``) as it is."""
    return rel if is_url(rel) else f"{url_base(root)}/{rel}"


def copy_tree(fs: Any, path: str, into: Path) -> Path:
    """Copy the file or folder ``path`` of the pyarrow filesystem ``fs`` into ``into``, under
    its own name (a number before it if two roots share one); returns the local copy.

    Raises:
        InputError: ``path`` does not exist, or a copy failed.
    """
    pa, pafs = _pyarrow_fs(f"reading {path}")
    info = fs.get_file_info(path)
    if info.type == pafs.FileType.NotFound:
        raise InputError(f"no such file or folder: {path}")
    target = _fresh(into, PurePosixPath(path.rstrip("/")).name or "input")
    try:
        if info.type == pafs.FileType.Directory:
            target.mkdir()  # copy_files fills a folder that exists
        pafs.copy_files(path, str(target), source_filesystem=fs, destination_filesystem=pafs.LocalFileSystem())
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot copy {path}: {' '.join(str(exc).split())}") from exc
    return target


def _fresh(into: Path, name: str) -> Path:
    """``into / name``, or with a number before the name if that is taken."""
    target, n = into / name, 1
    while target.exists():
        n += 1
        target = into / f"{n}-{name}"
    return target


def _pyarrow_fs(purpose: str) -> tuple[Any, Any]:
    """``pyarrow`` and ``pyarrow.fs`` (the ``parquet`` extra), or MissingExtra naming the install."""
    return require("pyarrow", "parquet", purpose), require("pyarrow.fs", "parquet", purpose)
