"""The signature cache's file: its layout, opening it, its size policy, and ``dedup cache
info``, ``prune`` and ``clear`` (see cache.py for what it holds and how a scan uses it)."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .errors import DedupError
from .files import open_regular

#: Bump when the layout or any hash definition changes.
CACHE_VERSION = 7

# Each row's ``checksum`` is ``_checksum`` of its other values (see the module docstring).
# A batch's ``payload`` comes last: the columns before it sit in the row's first page, so the
# size policy reads ``used`` and ``bytes`` without the arrays. Batch ids are never reused
# (AUTOINCREMENT): a scan that looked a file up before another scan pruned its batch must
# find the batch gone, not a newer batch under the same id.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS seen (
    path BLOB NOT NULL, params TEXT NOT NULL, stat TEXT NOT NULL, recorded_ns INTEGER NOT NULL,
    digest TEXT NOT NULL, checksum BLOB NOT NULL, PRIMARY KEY (path, params)
);
CREATE TABLE IF NOT EXISTS content (
    digest TEXT NOT NULL, params TEXT NOT NULL, batch INTEGER NOT NULL, lo INTEGER NOT NULL,
    hi INTEGER NOT NULL, skipped TEXT NOT NULL, checksum BLOB NOT NULL, PRIMARY KEY (digest, params)
);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT, used INTEGER NOT NULL, bytes INTEGER NOT NULL, checksum BLOB NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS rankings (key TEXT PRIMARY KEY, picks TEXT NOT NULL, checksum BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY, batches TEXT NOT NULL, checksum BLOB NOT NULL, payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS result_stats (key TEXT PRIMARY KEY, result TEXT NOT NULL, checksum BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS content_batch ON content (batch);
CREATE INDEX IF NOT EXISTS batches_used ON batches (used, bytes);
"""

#: Whole scan results kept at most (the newest): one per folder a user rescans, roughly.
MAX_RESULTS = 8

_TABLES = tuple(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", _SCHEMA))

#: Rankings kept at most: the oldest go first (a ranking costs a few milliseconds to redo).
MAX_RANKINGS = 1_000_000

#: The size policy. A batch (the stored hashing of up to 256 files) that none of the cache's
#: last KEEP_SCANS scans used is dropped with the entries that point into it; so are the
#: least recently used batches while their total passes MAX_BYTES (about 4 KB a document:
#: two million documents). Applied at the end of a scan that hashed anything, and by
#: ``dedup cache prune``, which can be given tighter limits.
KEEP_SCANS = 50
MAX_BYTES = 8 << 30

_SQLITE_MAGIC = b"SQLite format 3\x00"


class CacheError(DedupError):
    """The file at the cache path is not a signature cache (``dedup cache`` commands)."""


class DamagedCache(CacheError):
    """A file where dedup's cache belongs that no longer reads as an SQLite database: garbage
    bytes, a torn write, a bit flip in its pages. ``why`` says which."""

    def __init__(self, message: str, why: str) -> None:
        super().__init__(message)
        self.why = why


#: The cache file's name: ``clear`` deletes nothing else (and SQLite's side files of it).
FILE_NAME = "signatures.sqlite"


def default_path() -> Path:
    """$DEDUP_CACHE_DIR, else $XDG_CACHE_HOME/dedup, else ~/.cache/dedup; file signatures.sqlite."""
    folder = os.environ.get("DEDUP_CACHE_DIR")
    if not folder:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = str(Path(base) / "dedup")
    return Path(folder) / FILE_NAME


# --- the file: opening, layout, size policy; info, prune and clear for ``dedup cache`` ---


def _make_private(path: Path) -> None:
    """Create the cache's folder (0700) and file (0600) if missing: it holds absolute paths."""
    if not path.parent.is_dir():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0), 0o600)
    os.close(fd)


def connect(path: Path, *, create: bool) -> sqlite3.Connection:
    """The cache file in this version's layout; another layout (an older dedup) is started
    afresh rather than misread.

    Raises:
        OSError: the folder or file cannot be made (``create``).
        sqlite3.Error: the file is not an SQLite database, or cannot be written.
    """
    if create:
        _make_private(path)
    db = sqlite3.connect(path, timeout=30)
    try:
        db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # takes effect in a new file: pruning gives space back
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        # Checkpoint (the one step that syncs to disk in WAL mode) every 64 MB of log, not 4 MB:
        # a first scan writes about 4 KB a document, and synced every 4 MB it took 30% longer.
        db.execute("PRAGMA wal_autocheckpoint=16384")
        db.execute("PRAGMA cache_size=-65536")  # 64 MB of pages: a transaction of new batches stays in memory
        if db.execute("PRAGMA user_version").fetchone()[0] != CACHE_VERSION:
            db.execute("BEGIN IMMEDIATE")  # one process resets it; another waits, then sees it done
            if db.execute("PRAGMA user_version").fetchone()[0] != CACHE_VERSION:
                old = db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
                for table in _TABLES:
                    db.execute(f"DROP TABLE IF EXISTS {table}")  # our fixed table names
                db.execute(f"PRAGMA user_version={CACHE_VERSION}")
                db.executescript(_SCHEMA)  # commits
                if old:
                    db.execute("VACUUM")  # an old file: gives its space back and takes auto_vacuum
                with contextlib.suppress(OSError):
                    os.chmod(path, 0o600)  # caches of older versions were world-readable
            else:
                db.commit()
        db.executescript(_SCHEMA)
    except BaseException:
        db.close()
        raise
    return db


def next_generation(db: sqlite3.Connection) -> int:
    """Count this scan (one short transaction: no lock is held across the run)."""
    with db:
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('scans', 1) ON CONFLICT (key) DO UPDATE SET value = value + 1"
        )
        return int(db.execute("SELECT value FROM meta WHERE key='scans'").fetchone()[0])


@dataclass(frozen=True, slots=True)
class Pruned:
    """What pruning removed, and the cache's size on disk before and after."""

    batches: int
    contents: int
    files: int
    bytes_before: int
    bytes_after: int


def _disk_size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.is_file())


def apply_policy(db: sqlite3.Connection, generation: int, keep_scans: int, max_bytes: int, path: Path) -> Pruned:
    """The size policy: batches unused for ``keep_scans`` scans go, then the least recently
    used while the rest pass ``max_bytes``; then the rows pointing into them, and the space."""
    before = _disk_size(path)
    batches = db.execute("DELETE FROM batches WHERE used <= ?", (generation - keep_scans,)).rowcount
    total = int(db.execute("SELECT COALESCE(SUM(bytes), 0) FROM batches").fetchone()[0])
    if total > max_bytes:
        drop = []
        for batch_id, size in db.execute("SELECT id, bytes FROM batches ORDER BY used, id").fetchall():
            if total <= max_bytes:
                break
            drop.append((batch_id,))
            total -= size
        db.executemany("DELETE FROM batches WHERE id=?", drop)
        batches += len(drop)
    contents = db.execute("DELETE FROM content WHERE batch NOT IN (SELECT id FROM batches)").rowcount
    # Batches no file points at any more (all their files changed or went away).
    batches += db.execute("DELETE FROM batches WHERE id NOT IN (SELECT batch FROM content)").rowcount
    files = db.execute(
        "DELETE FROM seen WHERE NOT EXISTS"
        " (SELECT 1 FROM content c WHERE c.digest = seen.digest AND c.params = seen.params)"
    ).rowcount
    db.commit()
    if batches or contents or files:
        db.execute("PRAGMA incremental_vacuum")  # freed pages back to the file system
        db.commit()
        with contextlib.suppress(sqlite3.OperationalError):  # busy: another scan is reading
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Pruned(batches, contents, files, before, _disk_size(path))


def _shown(path: Path) -> str:
    """A path for a one-line message: undecodable bytes and control characters escaped."""
    text = os.fsdecode(path).encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _clear_command(path: Path) -> str:
    """``dedup cache clear``, with ``--cache-dir`` unless ``path`` is the default cache."""
    if path == default_path():
        return "dedup cache clear"
    return f"dedup cache clear --cache-dir {shlex.quote(_shown(path.parent))}"


def clear_hint(path: Path) -> str:
    """For a cache file that cannot be opened: "; dedup cache clear … deletes it" when
    ``clear`` would (see ``_made_by_dedup``), else ""."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return ""
    return f"; {_clear_command(path)} deletes it" if path.is_file() and _made_by_dedup(path, mode) else ""


def _made_by_dedup(path: Path, mode: int) -> bool:
    """Whether a file that does not read as a cache is still dedup's own, damaged: it has the
    cache's name and the mode dedup gives it (0600: no access for group or others), which a
    file someone else made under that name seldom has."""
    return path.name == FILE_NAME and mode & 0o077 == 0


def _damaged(path: Path, mode: int, why: str) -> CacheError:
    """The error for a file at the cache path that is not a readable SQLite database."""
    shown = _shown(path)
    if _made_by_dedup(path, mode):
        return DamagedCache(f"the cache file is damaged ({why}): {shown}; {_clear_command(path)} deletes it", why)
    if path.name == FILE_NAME:  # readable by others: not as dedup makes it, so maybe not dedup's
        return CacheError(f"not a dedup cache ({why}), left alone: {shown} (if it is a damaged cache, delete it)")
    return CacheError(f"not a dedup cache ({why}), left alone: {shown}")


def _open_existing(path: Path) -> sqlite3.Connection | None:
    """An existing cache file for ``dedup cache``: None if there is none (or it is empty).

    Raises:
        DamagedCache: dedup's cache file (see ``_made_by_dedup``), no longer a readable database.
        CacheError: the path is a folder, or a file that is not a dedup cache.
    """
    shown = _shown(path)
    if path.is_dir():
        raise CacheError(f"the cache path is a folder, not a cache file: {shown}")
    try:
        with open_regular(path) as (f, st):
            head = f.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CacheError(f"cannot read the cache file {shown}: {exc.strerror or exc}") from exc
    if not head:
        return None  # an empty file: what a scan killed as it created the cache leaves
    if head != _SQLITE_MAGIC:
        raise _damaged(path, st.st_mode, "not an SQLite file")
    try:
        db = sqlite3.connect(path, timeout=30)
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except (sqlite3.Error, ValueError) as exc:  # ValueError: a damaged schema may not even decode
        why = " ".join(str(exc).split()) if isinstance(exc, sqlite3.Error) else "its schema does not decode"
        raise _damaged(path, st.st_mode, f"an unreadable SQLite file: {why}") from exc
    if not tables & {"seen", "content", "batches"} and tables:
        db.close()
        raise CacheError(f"not a dedup cache (an SQLite file of something else), left alone: {shown}")
    return db


def info(path: Path) -> dict[str, object]:
    """What a cache file holds: for ``dedup cache info``.

    Raises:
        CacheError: the path is a folder, or not a dedup cache, or cannot be read.
    """
    db = _open_existing(path)
    if db is None:
        return {"path": str(path), "exists": False}
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version != CACHE_VERSION:
            return {"path": str(path), "exists": True, "layout": version, "bytes": _disk_size(path)}
        count = {
            table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # fixed table names
            for table in ("seen", "content", "batches", "rankings", "results")
        }
        scans = db.execute("SELECT value FROM meta WHERE key='scans'").fetchone()
    except sqlite3.Error as exc:
        raise CacheError(f"cannot read the cache file {_shown(path)}: {exc}") from exc
    finally:
        db.close()
    return {
        "path": str(path),
        "exists": True,
        "layout": version,
        "files": count["seen"],
        "contents": count["content"],
        "batches": count["batches"],
        "rankings": count["rankings"],
        "results": count["results"],
        "scans": scans[0] if scans else 0,
        "bytes": _disk_size(path),
    }


def prune(path: Path, keep_scans: int = KEEP_SCANS, max_bytes: int = MAX_BYTES) -> Pruned | None:
    """Apply the size policy to a cache file now (``dedup cache prune``); None if there is none.

    Raises:
        CacheError: the path is a folder, or not a dedup cache, or cannot be written.
    """
    db = _open_existing(path)
    if db is None:
        return None
    db.close()
    try:
        db = connect(path, create=False)
    except sqlite3.Error as exc:
        raise CacheError(f"cannot open the cache file {_shown(path)}: {exc}") from exc
    try:
        row = db.execute("SELECT value FROM meta WHERE key='scans'").fetchone()
        return apply_policy(db, row[0] if row else 0, keep_scans, max_bytes, path)
    except sqlite3.Error as exc:
        raise CacheError(f"cannot prune the cache file {_shown(path)}: {exc}") from exc
    finally:
        db.close()


def damage(path: Path) -> str | None:
    """Why the cache file at ``path`` is damaged (dedup's file, see ``_made_by_dedup``, that
    no longer reads as a database), or None: a readable cache, none, or not dedup's."""
    try:
        db = _open_existing(path)
    except DamagedCache as exc:
        return exc.why
    except CacheError:
        return None
    if db is not None:
        db.close()
    return None


def clear(path: Path) -> bool:
    """Delete a cache file (and its WAL side files), a damaged one too; True if there was one.

    Raises:
        CacheError: the path is a folder or a file that is not a dedup cache (left alone).
        OSError: it cannot be deleted.
    """
    try:
        db = _open_existing(path)  # refuses what is not a cache
    except DamagedCache:
        db = None  # dedup's own file: deleted as a readable one would be
    if db is not None:
        db.close()
    found = False
    for p in [path, Path(f"{path}-wal"), Path(f"{path}-shm")]:
        if p.is_file():
            p.unlink()
            found = True
    return found


