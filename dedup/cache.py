"""A cache of what hashing files produced, so a rescan reads only the files that changed.

The cache is one SQLite file (default ``~/.cache/dedup/signatures.sqlite``; see
``default_path``). What hashing a slice of files gives is stored as one *batch*: the
documents' records, shingle sets, short-line hashes and signatures, concatenated. Each
file then points at its range of documents in a batch:

* ``seen``: (absolute path as bytes, parameters) -> the file's stat (device, inode, size,
  mtime and ctime in nanoseconds: what git's index compares), when its digest was read, and
  its content digest. A file whose stat is unchanged is not opened at all, unless it is
  *racy*: changed so close to when it was read that a later write in the same timestamp
  tick would not show in its stat (see ``RACY_NS``); a racy file is read again.
* ``content``: (content digest, parameters) -> (batch, first document, end) and the file's
  skipped records. A file that was touched or moved but holds the same bytes is found here
  after one read (BLAKE2b of its bytes), without extraction or hashing.
* ``batches``: the arrays, one value per batch of files hashed together, with the number
  of the last scan that used it (the size policy drops the least recently used: ``prune``).
* ``rankings``: the cleanest-copy ranking of a group, under a digest of everything it
  depends on (members' content digests and forms, the counts of their short lines across
  the corpus, the settings): an unchanged group is not re-read and re-ranked.
* ``results``: whole scan results, under a digest of the settings, the paths as given,
  and every file's name and content digest (and what the walk skipped). A rescan in which
  no file changed, came or went gives the stored result after the walk and a stat per file.
* ``result_stats``: the same results under a digest of the files' stats instead of their
  contents (the stat shortcut of ``seen``, for a whole folder; never for racy files).

Every stored value carries a checksum (BLAKE2b over the row), checked when it is read: a
damaged value (a disk error, a bit flip, a hand edit) is dropped and computed afresh, and
the run says so in one warning. A row that is missing (pruned by another scan sharing the
cache) is a miss, not an error.

A rescan of an unchanged folder therefore loads a few large values, not a row per file.
"Parameters" is a digest of every setting that changes what hashing gives (fields, shingle
sizes, permutations, seed) and of the cache layout's version, so a run with other settings
never reads entries it cannot use. SQLite transactions keep the file consistent when a run
is killed midway. A cache that cannot be opened or read is reported and the scan goes on
without it (see runcache.py). The cache holds absolute paths: dedup creates its folder
0700 and its file 0600 (SQLite gives the -wal and -shm files the file's mode).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from .cache_file import CACHE_VERSION as CACHE_VERSION
from .cache_file import KEEP_SCANS as KEEP_SCANS
from .cache_file import MAX_BYTES as MAX_BYTES
from .cache_file import MAX_RANKINGS, MAX_RESULTS, Pruned, apply_policy, connect, next_generation
from .cache_file import CacheError as CacheError
from .cache_file import clear as clear
from .cache_file import damage as damage
from .cache_file import default_path as default_path
from .cache_file import info as info
from .cache_file import prune as prune
from .cache_format import Batch, decode, decode_result, encode, encode_result, skipped_json
from .config import ScanConfig
from .files import open_regular
from .records import (
    ScanResult,
    SourceFile,
)
from .sets import Chunk

#: A file whose mtime or ctime is not older than the moment its digest was read, by this
#: margin, is *racy* (git's word): a write in the same timestamp tick would leave its stat
#: as it was, so its stat is not trusted and it is read by content again next time. 2 s is
#: the coarsest tick in common use (FAT and exFAT keep mtimes to 2 s; ext3, HFS+ and some
#: network file systems to 1 s); ext4, XFS, btrfs and tmpfs stamp with a clock that lags
#: real time by a few milliseconds. The cost: files written less than 2 s before a scan are
#: read again by the next one.
RACY_NS = 2_000_000_000

#: Keys per ``IN (...)`` query when looking up the rows a run needs.
_IN_CHUNK = 500

def params_key(config: ScanConfig) -> str:
    """A digest of the settings that shape a file's hashing result."""
    shaping = {
        "cache": CACHE_VERSION,
        "text_field": config.text_field,
        "id_field": config.id_field,
        "shingle_size": config.shingle_size,
        "char_shingle_size": config.char_shingle_size,
        "num_perm": config.num_perm,
        "seed": config.seed,
    }
    return hashlib.blake2b(json.dumps(shaping, sort_keys=True).encode(), digest_size=12).hexdigest()


#: Read size for content digests: below malloc's mmap threshold, so the buffer of each of
#: 100,000 small files is cheap to make (``f.read(1 MB)`` mapped and unmapped a megabyte a
#: file: a third of the digest's time on small files, and half of it on a 235 MB file).
DIGEST_BLOCK = 1 << 16


def content_digest(path: str | Path) -> str:
    """BLAKE2b of a file's bytes, read in blocks into one buffer.

    Raises:
        OSError: the path is not a regular file now (a FIFO put in its place does not block:
            ``open_regular``), or it cannot be read.
    """
    h = hashlib.blake2b(digest_size=16)
    buf = bytearray(DIGEST_BLOCK)
    view = memoryview(buf)
    with open_regular(path, buffering=0) as (f, _st):
        raw = cast(io.RawIOBase, f)  # unbuffered: a FileIO
        while n := raw.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def stat_key(source: SourceFile) -> str:
    """What tells a file's versions apart without reading it: what git's index compares."""
    return f"{source.dev}:{source.ino}:{source.size}:{source.mtime_ns}:{source.ctime_ns}"


def racy(source: SourceFile, recorded_ns: int) -> bool:
    """The file changed too close to ``recorded_ns`` for its stat to tell later writes apart."""
    return max(source.mtime_ns, source.ctime_ns) >= recorded_ns - RACY_NS


def _checksum(*parts: bytes | str | int) -> bytes:
    """BLAKE2b of a row's values, to find damage inside a valid SQLite file."""
    data = b"\0".join(p if isinstance(p, bytes) else str(p).encode("utf-8", "surrogatepass") for p in parts)
    return hashlib.blake2b(data, digest_size=8).digest()


@dataclass(frozen=True, slots=True)
class Stamp:
    """A file as it was looked up: its absolute path (bytes: any name), stat and content digest."""

    path: bytes
    stat: str  # stat_key
    digest: str
    by_stat: bool = False  # the digest came from ``seen``: the cache knows this path at this stat
    read_ns: int = 0  # when the digest was read (time.time_ns, just before): for the racy rule


@dataclass(frozen=True, slots=True)
class Hit:
    """Where a cached file's documents are: a range of a batch, and the file's skips."""

    batch: int
    lo: int
    hi: int
    skipped: str  # JSON: [[rel suffix, reason, detail], ...]


#: New batches are committed at most this often (a commit per batch of 256 files cost more
#: than their hashing); a run killed midway loses at most this much of its stored work.
COMMIT_EVERY_S = 2.0


class Cache:
    """The signature cache of one run: look files up, store new batches, commit."""

    def __init__(self, path: Path, config: ScanConfig) -> None:
        self.path = path
        self.params = params_key(config)
        self._db = connect(path, create=True)
        try:
            self.generation = next_generation(self._db)  # this scan's number: batches it uses get it
        except BaseException:
            self._db.close()
            raise
        # Rows looked up so far (None: not in the cache): path -> (stat, recorded_ns, digest),
        # and digest -> where its results are.
        self._seen: dict[bytes, tuple[str, int, str] | None] = {}
        self._content: dict[str, Hit | None] = {}
        self._loaded: tuple[int, Batch] | None = None
        self._used: set[int] = set()  # batches this run read or wrote
        self.hits = 0
        self.misses = 0
        self.damaged = 0  # damaged values found (and dropped) this run
        self._committed = time.monotonic()

    def close(self) -> None:
        try:
            self._mark_used(self._used)
            self._db.commit()
        finally:
            self._db.close()

    def _select_in(self, head: str, keys: Sequence[object]) -> Iterator[Any]:
        """Rows of ``head`` + ``IN (keys)``, a few hundred keys a query: the rows a run needs,
        not the whole table (a cache shared by many folders holds far more)."""
        for at in range(0, len(keys), _IN_CHUNK):
            part = keys[at : at + _IN_CHUNK]
            yield from self._db.execute(f"{head} ({','.join('?' * len(part))})", (self.params, *part))

    def _damage(self, sql: str, args: tuple[object, ...]) -> None:
        """Drop a damaged value (it is computed afresh); the run warns once (see runcache.py)."""
        self.damaged += 1
        self._db.execute(sql, args)

    def prefetch(self, sources: Sequence[SourceFile]) -> None:
        """Read the ``seen`` rows of these files at once (``stamp`` then needs no query)."""
        keys = list(dict.fromkeys(os.fsencode(_absolute(s.path)) for s in sources))
        self._seen.update(dict.fromkeys(keys))
        head = "SELECT path, stat, recorded_ns, digest, checksum FROM seen WHERE params=? AND path IN"
        for path, stat, recorded_ns, digest, checksum in self._select_in(head, keys):
            if _seen_checksum(path, self.params, stat, recorded_ns, digest) != checksum:
                self._damage("DELETE FROM seen WHERE path=? AND params=?", (path, self.params))
                continue
            self._seen[path] = (stat, recorded_ns, digest)

    def lookup(self, source: SourceFile) -> tuple[Hit | None, Stamp]:
        """Where a file's results are if its stat or its content is known, and its stamp."""
        stamp = self.stamp(source)
        return self.hit(stamp), stamp

    def stamp(self, source: SourceFile) -> Stamp:
        """The file's stamp: its content digest from the stat shortcut, else read.

        Raises:
            OSError: the file cannot be read now, or is not a regular file any more.
        """
        path = os.fsencode(_absolute(source.path))
        if path not in self._seen:
            self.prefetch([source])
        row = self._seen[path]
        stat = stat_key(source)
        if row is not None and row[0] == stat and not racy(source, row[1]):
            return Stamp(path, stat, row[2], by_stat=True)
        read_ns = time.time_ns()
        return Stamp(path, stat, content_digest(source.path), read_ns=read_ns)

    def prefetch_content(self, digests: Sequence[str]) -> None:
        """Read the ``content`` rows of these digests at once (``hit`` then needs no query)."""
        keys = list(dict.fromkeys(digests))
        self._content.update(dict.fromkeys(keys))
        head = "SELECT digest, batch, lo, hi, skipped, checksum FROM content WHERE params=? AND digest IN"
        for digest, batch, lo, hi, skipped, checksum in self._select_in(head, keys):
            if _content_checksum(digest, self.params, batch, lo, hi, skipped) != checksum or not 0 <= lo <= hi:
                self._damage("DELETE FROM content WHERE digest=? AND params=?", (digest, self.params))
                continue
            self._content[digest] = Hit(batch, lo, hi, skipped)

    def hit(self, stamp: Stamp) -> Hit | None:
        """Where the results for a stamped file's content are, if cached."""
        if stamp.digest not in self._content:
            self.prefetch_content([stamp.digest])
        found = self._content[stamp.digest]
        if found is None:
            self.misses += 1
            return None
        if not stamp.by_stat:
            self._remember(stamp)  # moved or touched, same bytes: next time the stat will do
        self.hits += 1
        return found

    def batch(self, batch_id: int) -> Batch | None:
        """A stored batch (the last one read is kept: files of a batch come together), or None
        if it is gone (pruned by another scan meanwhile) or damaged (then it is dropped)."""
        if self._loaded is None or self._loaded[0] != batch_id:
            row = self._db.execute("SELECT checksum, payload FROM batches WHERE id=?", (batch_id,)).fetchone()
            if row is None:
                return None
            checksum, payload = row
            decoded = None
            if _checksum(payload) == checksum:
                with contextlib.suppress(ValueError, TypeError, KeyError, IndexError):  # a bug, not damage
                    decoded = decode(payload)
            if decoded is None:
                self._damage("DELETE FROM batches WHERE id=?", (batch_id,))
                self._db.execute("DELETE FROM content WHERE batch=?", (batch_id,))
                return None
            self._loaded = (batch_id, decoded)
            self._used.add(batch_id)
        return self._loaded[1]

    def forget(self, hit: Hit) -> None:
        """Drop the content rows of a batch found unusable (a range outside it, say)."""
        self._damage("DELETE FROM content WHERE batch=?", (hit.batch,))

    def store(self, chunk: Chunk, sources: Sequence[SourceFile], stamps: Sequence[Stamp | None]) -> None:
        """Remember a freshly hashed chunk and which files it holds (unless they changed since).
        All or nothing: a failure midway leaves no half-written rows."""
        if not self._db.in_transaction:
            self._db.execute("BEGIN")  # so that RELEASE below does not commit (see COMMIT_EVERY_S)
        self._db.execute("SAVEPOINT store")
        try:
            self._store(chunk, sources, stamps)
        except BaseException:
            self._db.execute("ROLLBACK TO store")
            self._db.execute("RELEASE store")
            raise
        self._db.execute("RELEASE store")
        if time.monotonic() - self._committed >= COMMIT_EVERY_S:
            self.commit()  # a killed run keeps what was committed; close() commits the rest

    def _store(self, chunk: Chunk, sources: Sequence[SourceFile], stamps: Sequence[Stamp | None]) -> None:
        payload = encode(chunk)
        cur = self._db.execute(
            "INSERT INTO batches (used, bytes, checksum, payload) VALUES (?, ?, ?, ?)",
            (self.generation, len(payload), _checksum(payload), payload),
        )
        batch_id = cur.lastrowid
        assert batch_id is not None
        self._used.add(batch_id)
        lo = 0
        for source, stamp, count in zip(sources, stamps, chunk.counts, strict=True):
            hi = lo + count
            if stamp is not None and _unchanged(source.path, stamp):
                skips = [s for s in chunk.skipped if s.rel == source.rel or s.rel.startswith(source.rel + ":")]
                text = skipped_json(skips, source.rel)
                self._db.execute(
                    "INSERT OR REPLACE INTO content (digest, params, batch, lo, hi, skipped, checksum)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (stamp.digest, self.params, batch_id, lo, hi, text,
                     _content_checksum(stamp.digest, self.params, batch_id, lo, hi, text)),
                )  # fmt: skip
                self._remember(stamp)
            lo = hi

    def commit(self) -> None:
        self._db.commit()
        self._committed = time.monotonic()

    def ranking(self, key: str) -> list[tuple[int, float, tuple[str, ...]]] | None:
        """A stored ranking: (position in the group, penalty, reasons), cleanest first."""
        row = self._db.execute("SELECT picks, checksum FROM rankings WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        try:
            if _checksum(key, row[0]) != row[1]:
                raise ValueError("checksum")
            return [
                (int(pos), float(penalty), tuple(map(str, reasons))) for pos, penalty, reasons in json.loads(row[0])
            ]
        except (ValueError, TypeError):
            self._damage("DELETE FROM rankings WHERE key=?", (key,))
            return None

    def store_rankings(self, rows: dict[str, list[tuple[int, float, tuple[str, ...]]]]) -> None:
        """Remember rankings (see ``ranking``); the oldest go past MAX_RANKINGS."""
        texts = ((key, json.dumps(picks)) for key, picks in rows.items())
        self._db.executemany(
            "INSERT OR REPLACE INTO rankings (key, picks, checksum) VALUES (?, ?, ?)",
            ((key, text, _checksum(key, text)) for key, text in texts),
        )
        self._db.execute("DELETE FROM rankings WHERE rowid <= (SELECT MAX(rowid) FROM rankings) - ?", (MAX_RANKINGS,))
        self._db.commit()

    def result(self, key: str, *, by_stat: bool = False) -> ScanResult | None:
        """A stored scan result (see ``results`` in the module docstring), if there is one,
        by its content key, or by its stat key (``result_stats``)."""
        if by_stat:
            row = self._db.execute("SELECT result, checksum FROM result_stats WHERE key=?", (key,)).fetchone()
            if row is None:
                return None
            if _checksum(key, row[0]) != row[1]:
                self._damage("DELETE FROM result_stats WHERE key=?", (key,))
                return None
            key = row[0]
        row = self._db.execute("SELECT batches, checksum, payload FROM results WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        batches, checksum, payload = row
        try:
            if _checksum(key, batches, payload) != checksum:
                raise ValueError("checksum")
            found = decode_result(payload)
            used = [int(b) for b in json.loads(batches)]
        except (ValueError, TypeError, KeyError, IndexError, zlib.error):
            self._damage("DELETE FROM results WHERE key=?", (key,))
            self._db.execute("DELETE FROM result_stats WHERE result=?", (key,))
            return None
        self._used.update(used)  # the batches its files point at stay as recent as the result
        return found

    def store_result(self, key: str, result: ScanResult | None, stat_key: str | None = None) -> None:
        """Remember a scan's result (None: it is stored already) and its stat key; only the
        newest MAX_RESULTS are kept."""
        if result is not None:
            payload = encode_result(result)
            batches = json.dumps(sorted(self._used))
            self._db.execute(
                "INSERT OR REPLACE INTO results (key, batches, checksum, payload) VALUES (?, ?, ?, ?)",
                (key, batches, _checksum(key, batches, payload), payload),
            )
        if stat_key is not None:
            self._db.execute(
                "INSERT OR REPLACE INTO result_stats (key, result, checksum) VALUES (?, ?, ?)",
                (stat_key, key, _checksum(stat_key, key)),
            )
        self._db.execute(
            "DELETE FROM results WHERE rowid NOT IN (SELECT rowid FROM results ORDER BY rowid DESC LIMIT ?)",
            (MAX_RESULTS,),
        )
        self._db.execute("DELETE FROM result_stats WHERE result NOT IN (SELECT key FROM results)")
        self._db.commit()

    def prune(self, keep_scans: int | None = None, max_bytes: int | None = None) -> Pruned:
        """Apply the size policy (by default ``KEEP_SCANS``, ``MAX_BYTES``) with this run's use counted."""
        self._mark_used(self._used)
        self._db.commit()
        keep = KEEP_SCANS if keep_scans is None else keep_scans
        return apply_policy(self._db, self.generation, keep, MAX_BYTES if max_bytes is None else max_bytes, self.path)

    def _mark_used(self, batch_ids: set[int]) -> None:
        self._db.executemany("UPDATE batches SET used=? WHERE id=?", ((self.generation, b) for b in sorted(batch_ids)))

    def _remember(self, stamp: Stamp) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO seen (path, params, stat, recorded_ns, digest, checksum) VALUES (?, ?, ?, ?, ?, ?)",
            (stamp.path, self.params, stamp.stat, stamp.read_ns, stamp.digest,
             _seen_checksum(stamp.path, self.params, stamp.stat, stamp.read_ns, stamp.digest)),
        )  # fmt: skip


def _seen_checksum(path: bytes, params: str, stat: str, recorded_ns: int, digest: str) -> bytes:
    return _checksum(path, params, stat, recorded_ns, digest)


def _content_checksum(digest: str, params: str, batch: int, lo: int, hi: int, skipped: str) -> bytes:
    return _checksum(digest, params, batch, lo, hi, skipped)


def _absolute(path: str) -> str:
    """``os.path.abspath``, without its cost for the paths the walk makes (already clean)."""
    if not path.startswith("/"):
        return os.path.abspath(path)
    if "/." in path or "//" in path:
        return os.path.normpath(path)
    return path


def _unchanged(path: str, stamp: Stamp) -> bool:
    """The file still has the stat it had when it was looked up (and hashed)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}" == stamp.stat


