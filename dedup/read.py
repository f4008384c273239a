"""Stage 1: paths -> ``SourceFile | Skipped``, sorted by relative path.

In:  the folders and files named by the user, and the reading options of ``ScanConfig``.
Out: one ``SourceFile`` per regular file (no bytes read), or a ``Skipped`` saying why a
     file or folder was left out (a FIFO, socket or device is ``not-a-file``: never opened,
     as reading one may block or never end). Hidden and excluded files are left out
     silently, as ripgrep does: the user asked for that.

Ids: ``rel`` is the stable id and the sort key, so results never depend on file-system
order. With one folder argument it is the path relative to that folder; with several
arguments each folder's files are prefixed with the folder as given (``a/x.txt``,
``b/x.txt``), and a file argument is named relative to the working directory. Either way,
with several arguments every ``rel`` is a path that leads to its file, so two different
files cannot share one.

The path ``-`` is standard input: its bytes are copied to a temporary file once
(stdinput.py) and that file is read under the name ``-``.

Symlinks are followed. A folder that is already on the current descent path (a link back
to an ancestor, or a bind mount) is a loop and is reported, not entered. A real file
reached twice (two arguments, a link, a hard link) is yielded once, under the first of
its paths that goes through no symlink, else the first path in sort order.

Globs (``--include``/``--exclude``): ``*`` and ``?`` stay inside one path segment, ``**``
crosses them (``**/tmp/**`` matches ``tmp/x`` and ``a/tmp/b/x``). A pattern without ``/``
matches a file's name or any folder name above it (``*.html``, ``drafts``); a pattern with
``/`` matches the path below the argument or ``rel`` (``drafts/*``); a trailing ``/``
matches folders only. An excluded folder is not walked at all. Files named directly on
the command line are read whatever the globs say.
"""

from __future__ import annotations

import errno
import functools
import operator
import os
import re
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from .config import ScanConfig
from .errors import ConfigError, InputError, SkipReason, os_detail
from .files import special_kind
from .formats import read_by_record
from .records import Skipped, SourceFile
from .stdinput import STDIN, stdin_path

__all__ = ["list_folder", "walk"]

_FileKey = tuple[int, int]  # (st_dev, st_ino): what makes a file or folder "the same"


def walk(
    paths: Sequence[Path], config: ScanConfig, names: Mapping[Path, str] | None = None
) -> Iterator[SourceFile | Skipped]:
    """Find every file to read under ``paths``, sorted by ``rel``.

    The whole walk happens in this call (sorting needs it; only small records are held),
    so a missing path raises here rather than at the first ``next()``.

    Args:
        paths: folders (walked recursively) and files, as the user gave them.
        config: ``include``, ``exclude``, ``hidden`` and ``max_bytes`` are used.
        names: a folder's name for its files' rels when several are walked, instead of its
            path (an s3:// input's local copy: its URL, not the temporary folder).

    Returns:
        An iterator of ``SourceFile`` and ``Skipped`` records in ``rel`` order.

    Raises:
        InputError: a path does not exist, or a folder argument cannot be listed.

    Example:
        >>> [f.rel for f in walk([Path("samples")], ScanConfig())][:1]  # doctest: +SKIP
        ['000_8bcd120cc8060ff3.txt']
    """
    roots = [Path(p) for p in paths]
    for root in roots:
        if str(root) != STDIN and not root.exists():
            kind = "broken symbolic link" if root.is_symlink() else "no such file or folder"
            raise InputError(f"{kind}: {_quoted(root)}")
    walker = _Walker(
        config=config,
        include=tuple(_Glob.compile(p) for p in config.include),
        exclude=tuple(_Glob.compile(p) for p in config.exclude),
    )
    for root in roots:
        if str(root) == STDIN:
            walker.add_stdin()
        elif root.is_dir():
            prefix = "" if len(roots) == 1 else (names or {}).get(root) or _folder_prefix(root)
            walker.walk_folder(root, prefix)
        else:
            walker.add_root_file(root)
    return iter(walker.results())


@dataclass(frozen=True, slots=True)
class _Glob:
    """One include/exclude pattern, compiled once."""

    regex: re.Pattern[str]
    has_slash: bool  # match paths, not names
    folders_only: bool  # the pattern ended in "/"

    @classmethod
    def compile(cls, pattern: str) -> _Glob:
        body = pattern.rstrip("/")
        if body.startswith("./"):
            body = body[2:]
        # A leading "/" anchors the pattern at the argument, which a pattern with "/" is anyway.
        try:
            regex = _glob_regex(body.lstrip("/"))
        except re.error as exc:  # a reversed range such as [z-a]
            raise ConfigError(f"bad glob {pattern!r}: {exc.msg}") from None
        return cls(regex, "/" in body, pattern.endswith("/"))

    def matches(self, name: str, paths: tuple[str, ...], is_folder: bool) -> bool:
        """True if this pattern selects a file or folder called ``name`` at ``paths``."""
        if self.folders_only and not is_folder:
            return False
        if self.has_slash:
            return any(self.regex.match(p) for p in paths)
        return self.regex.match(name) is not None


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a glob with ``**`` into an anchored regex (fnmatch lets ``*`` cross ``/``)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == n:
            out.append("(?:/.*)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            j = i + 1
            if j < n and pattern[j] in "!^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1  # a "]" first in a class is a literal, as in fnmatch
            end = pattern.find("]", j)
            if end < 0:
                out.append(re.escape("["))
                i += 1
                continue
            out.append(_char_class(pattern[i + 1 : end]))
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("(?s:" + "".join(out) + r")\Z")


def _char_class(inner: str) -> str:
    """A glob ``[...]`` body as a regex class: ranges kept, everything else literal."""
    negate = inner[0] in "!^"
    chars = inner[1:] if negate else inner
    body = "".join(c if c == "-" else re.escape(c) for c in chars)
    return f"[^{body}]" if negate else f"[{body}]"


# A regular file met during the walk, before duplicates are merged: (via_link, rel, path, rel,
# size, mtime_ns, ctime_ns, ino, dev). A plain tuple, built 100,000 times in a big folder. Its order is the
# preference between two names of one real file: lower is better, no symlink first, then
# sort order. Its last seven items are a SourceFile's fields, in their order: ``results``
# makes the records in C (``_SOURCE`` of ``_FIELDS``), with no Python call per file.
_Found = tuple[bool, str, str, str, int, int, int, int, int]
_REL = operator.itemgetter(1)
_SIZE = operator.itemgetter(4)
_FIELDS = operator.itemgetter(slice(2, None))
_SOURCE = functools.partial(tuple.__new__, SourceFile)


@dataclass(frozen=True, slots=True)
class _Folder:
    """A folder waiting to be listed, with what its descendants inherit."""

    path: str
    rel: str  # path below the argument, with the argument's prefix
    sub_head: str  # the path below the argument, as a prefix for a child's: "" or that path + "/"
    rel_head: str  # the same for its rel
    ancestors: dict[_FileKey, str]  # folders on the descent path -> their rel, for loops
    included: bool  # an include pattern matched this folder or one above it
    via_link: bool


@dataclass(slots=True)
class _Walker:
    """Collects files and skips from every argument; the results are sorted at the end."""

    config: ScanConfig
    include: tuple[_Glob, ...]
    exclude: tuple[_Glob, ...]
    found: dict[_FileKey, _Found] = field(default_factory=dict)
    skipped: dict[str, Skipped] = field(default_factory=dict)

    def results(self) -> list[SourceFile | Skipped]:
        """Merge files and skips, too-large checked once per real file, sorted by rel."""
        found = sorted(self.found.values(), key=_REL)
        limit = self.config.max_bytes
        if found and max(map(_SIZE, found)) > limit:
            # JSON Lines and Parquet files are read a record at a time: the limit is for their records.
            fits = [f[4] <= limit or read_by_record(f[2]) for f in found]
            big = [f for f, ok in zip(found, fits, strict=True) if not ok]
            found = [f for f, ok in zip(found, fits, strict=True) if ok]
            skips = [
                Skipped(f[1], SkipReason.TOO_LARGE, f"{_size_text(f[4])} > {_size_text(limit)} limit (--max-bytes)")
                for f in big
            ]
        else:
            skips = []
        out: list[SourceFile | Skipped] = list(map(_SOURCE, map(_FIELDS, found)))
        if skips or self.skipped:
            # Files before skips of the same name: the sort is stable.
            out.extend(skips)
            out.extend(self.skipped.values())
            out.sort(key=_rel_of)
        return out

    def add_root_file(self, path: Path) -> None:
        """A file named on the command line: read whatever the globs and dots say."""
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"not a regular file or folder: {_quoted(path)}")
        rel = _cwd_rel(path)
        self._add(
            (st.st_dev, st.st_ino),
            (False, rel, str(path), rel, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev),
        )

    def add_stdin(self) -> None:
        """``-``: standard input, copied to a file once (stdinput.py), named ``-``."""
        path = stdin_path()
        st = os.stat(path)
        self._add(
            (st.st_dev, st.st_ino),
            (False, STDIN, path, STDIN, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev),
        )

    def walk_folder(self, root: Path, prefix: str) -> None:
        """Walk one folder argument depth-first (no recursion: trees can be deep)."""
        st = root.stat()
        start = _Folder(
            path=str(root),
            rel=prefix,
            sub_head="",
            rel_head=f"{prefix}/" if prefix else "",
            ancestors={(st.st_dev, st.st_ino): prefix or "."},
            included=not self.include,
            via_link=False,
        )
        try:
            entries = list_folder(str(root))
        except OSError as exc:
            raise InputError(f"cannot read folder {_quoted(root)}: {os_detail(exc)}") from exc
        stack = [(start, entries)]
        while stack:
            folder, entries = stack.pop()
            for entry in entries:
                child = self._visit(folder, entry)
                if child is None:
                    continue
                try:
                    stack.append((child, list_folder(child.path)))
                except OSError as exc:
                    self._skip(child.rel, SkipReason.UNREADABLE, f"cannot list folder: {os_detail(exc)}")

    def _visit(self, folder: _Folder, entry: os.DirEntry[str]) -> _Folder | None:
        """Handle one folder entry; return a sub-folder to walk, if it is one.

        Called once per file of the tree, so it does only what a plain file needs: the
        sub-path and the globs are looked at only when there are globs or it is a folder."""
        name = entry.name
        if name[0] == "." and not self.config.hidden:
            return None
        rel = folder.rel_head + name
        try:
            is_link = entry.is_symlink()
            st = entry.stat()  # follows symlinks
        except OSError as exc:
            self._skip(rel, *_stat_failure(exc, is_link=entry.is_symlink()))
            return None
        mode = st.st_mode
        if stat.S_ISREG(mode):
            if self.exclude or not folder.included:
                paths = (folder.sub_head + name, rel)
                if any(g.matches(name, paths, is_folder=False) for g in self.exclude):
                    return None
                if not folder.included and not any(g.matches(name, paths, is_folder=False) for g in self.include):
                    return None
            found = (folder.via_link or is_link, rel, entry.path, rel, st.st_size, st.st_mtime_ns)
            self._add((st.st_dev, st.st_ino), (*found, st.st_ctime_ns, st.st_ino, st.st_dev))
            return None
        if not stat.S_ISDIR(mode):
            # FIFOs, sockets and devices hold no documents (and reading one may block or
            # never end), but the user is told they were left out, as for any file.
            if not self._globbed_out(folder, name, rel):
                self._skip(rel, SkipReason.NOT_A_FILE, special_kind(mode))
            return None
        sub = folder.sub_head + name
        paths = (sub, rel)
        if any(g.matches(name, paths, is_folder=True) for g in self.exclude):
            return None
        key = (st.st_dev, st.st_ino)
        if key in folder.ancestors:
            self._skip(rel, SkipReason.SYMLINK_LOOP, f"link leads back to {folder.ancestors[key]}")
            return None
        included = folder.included or any(g.matches(name, paths, is_folder=True) for g in self.include)
        ancestors = {**folder.ancestors, key: rel}
        via_link = folder.via_link or is_link
        return _Folder(entry.path, rel, f"{sub}/", f"{rel}/", ancestors, included, via_link)

    def _globbed_out(self, folder: _Folder, name: str, rel: str) -> bool:
        """True if the globs leave out a file called ``name`` in ``folder``."""
        if not self.exclude and folder.included:
            return False
        paths = (folder.sub_head + name, rel)
        if any(g.matches(name, paths, is_folder=False) for g in self.exclude):
            return True
        return not folder.included and not any(g.matches(name, paths, is_folder=False) for g in self.include)

    def _add(self, key: _FileKey, item: _Found) -> None:
        """Keep one name per real file: the preferred one, whatever order they came in."""
        known = self.found.get(key)
        if known is None or item < known:
            self.found[key] = item

    def _skip(self, rel: str, reason: SkipReason, detail: str) -> None:
        self.skipped.setdefault(rel, Skipped(rel, reason, detail))


def _rel_of(item: SourceFile | Skipped) -> str:
    return item.rel


def _stat_failure(exc: OSError, *, is_link: bool) -> tuple[SkipReason, str]:
    """Why an entry could not be looked at: a broken link, a loop of links, or the OS said no."""
    if is_link and exc.errno == errno.ENOENT:
        return SkipReason.UNREADABLE, "broken symbolic link"
    if exc.errno == errno.ELOOP:
        return SkipReason.SYMLINK_LOOP, "symbolic link leads back to itself"
    return SkipReason.UNREADABLE, os_detail(exc)


def list_folder(path: str) -> list[os.DirEntry[str]]:
    """The folder's entries in the order the OS gives them: nothing the walk decides depends
    on it (one name per real file goes by preference, ancestors are per path, and the
    results are sorted by rel at the end), so 100,000 entries are not sorted by name twice."""
    with os.scandir(path) as it:
        return list(it)


def _folder_prefix(root: Path) -> str:
    """The folder argument as given, POSIX, as a prefix for its files' rels ("." adds none)."""
    text = PurePath(root).as_posix()
    return "" if text == "." else text


def _cwd_rel(path: Path) -> str:
    """A file argument's id: relative to the working directory if below it, else as given."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return PurePath(path).as_posix()


def _size_text(size: int) -> str:
    """Bytes for people, 1024-based as file managers show them: '52.4 MB'."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            break
    return f"{value:.1f} {unit}"


def _quoted(path: Path) -> str:
    """A path for a one-line message: repr escapes newlines and undecodable bytes."""
    return repr(str(path))
