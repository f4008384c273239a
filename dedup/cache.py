"""A cache of what hashing files produced, so a rescan reads only the files that changed.

The cache is one SQLite file (default ``~/.cache/dedup/signatures.sqlite``; see
``default_path``). What hashing a slice of files gives is stored as one *batch*: the
documents' records, shingle sets, short-line hashes and signatures, concatenated. Each
file then points at its range of documents in a batch:

* ``seen``: (absolute path, parameters) -> size, mtime_ns and content digest. A file whose
  size and modification time are unchanged is not opened at all.
* ``content``: (content digest, parameters) -> (batch, first document, end) and the file's
  skipped records. A file that was touched or moved but holds the same bytes is found here
  after one read (BLAKE2b of its bytes), without extraction or hashing.
* ``batches``: the arrays, one value per batch of files hashed together.
* ``rankings``: the cleanest-copy ranking of a group, under a digest of everything it
  depends on (members' content digests and forms, the counts of their short lines across
  the corpus, the settings): an unchanged group is not re-read and re-ranked.
* ``results``: whole scan results, under a digest of the settings, the paths as given,
  and every file's name and content digest (and what the walk skipped). A rescan in which
  no file changed, came or went gives the stored result after the walk and a stat per file.
* ``result_stats``: the same results under a digest of the files' sizes and modification
  times instead of their contents (the stat shortcut of ``seen``, for a whole folder).

A rescan of an unchanged folder therefore loads a few large values, not a row per file.
"Parameters" is a digest of every setting that changes what hashing gives (fields, shingle
sizes, permutations, seed) and of the cache layout's version, so a run with other settings
never reads entries it cannot use. SQLite transactions keep the file consistent when a run
is killed midway. A cache that cannot be opened or read is reported and the scan goes on
without it (see pipeline.py).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import re
import sqlite3
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .candidates import Anchors
from .config import ScanConfig
from .errors import SkipReason
from .records import (
    Cluster,
    DocBatch,
    DocTable,
    Match,
    Member,
    ScanResult,
    Skipped,
    SourceFile,
    Summary,
)
from .shingle import Shingles

#: Bump when the layout or any hash definition changes.
CACHE_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    path TEXT NOT NULL, params TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    digest TEXT NOT NULL, PRIMARY KEY (path, params)
);
CREATE TABLE IF NOT EXISTS content (
    digest TEXT NOT NULL, params TEXT NOT NULL, batch INTEGER NOT NULL, lo INTEGER NOT NULL,
    hi INTEGER NOT NULL, skipped TEXT NOT NULL, PRIMARY KEY (digest, params)
);
CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY, payload BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS rankings (key TEXT PRIMARY KEY, picks TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, payload BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS result_stats (key TEXT PRIMARY KEY, result TEXT NOT NULL);
"""

#: Whole scan results kept at most (the newest): one per folder a user rescans, roughly.
MAX_RESULTS = 8

_TABLES = tuple(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", _SCHEMA))

#: Rankings kept at most: the oldest go first (a ranking costs a few milliseconds to redo).
MAX_RANKINGS = 1_000_000


def default_path() -> Path:
    """$DEDUP_CACHE_DIR, else $XDG_CACHE_HOME/dedup, else ~/.cache/dedup; file signatures.sqlite."""
    folder = os.environ.get("DEDUP_CACHE_DIR")
    if not folder:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = str(Path(base) / "dedup")
    return Path(folder) / "signatures.sqlite"


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
    """BLAKE2b of a file's bytes, read in blocks into one buffer."""
    h = hashlib.blake2b(digest_size=16)
    buf = bytearray(DIGEST_BLOCK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Chunk:
    """What hashing some consecutive files gave: documents (no text), skips and arrays."""

    docs: DocBatch
    skipped: tuple[Skipped, ...]
    shingles: Shingles
    matrix: NDArray[np.uint32]
    counts: tuple[int, ...]  # documents of each file, in file order
    # From a worker: shingles.hashes is empty, the hashes are in this (file, byte offset),
    # and the anchors were selected there (see pipeline._process).
    hashes_at: tuple[str, int] | None = None
    anchors: Anchors | None = None


@dataclass(frozen=True, slots=True)
class Stamp:
    """A file as it was looked up: its absolute path, stat and content digest."""

    real: str
    size: int
    mtime_ns: int
    digest: str
    by_stat: bool = False  # the digest came from ``seen``: the cache knows this path at this stat


@dataclass(frozen=True, slots=True)
class Hit:
    """Where a cached file's documents are: a range of a batch, and the file's skips."""

    batch: int
    lo: int
    hi: int
    skipped: str  # JSON: [[rel suffix, reason, detail], ...]


# --- the batch payload: a JSON header line, then raw little-endian arrays -----------------

_ARRAYS = (
    ("offsets", np.int64),
    ("hashes", np.uint64),
    ("words", np.int64),
    ("line_hashes", np.uint64),
    ("line_docs", np.int64),
    ("matrix", np.uint32),
)


def _doc_rows(docs: DocBatch) -> list[list[object]]:
    """[id, encoding, kind, size, offset, length, record] per document. Ids made from the path
    are stored as markers (None: the path; 0: path:record), so a moved file gets its new ids."""
    rows: list[list[object]] = []
    for doc_id, rel, encoding, kind, size, _path, offset, length, record in zip(*docs.columns(), strict=True):
        stored: object = doc_id
        if doc_id == rel:
            stored = None
        elif record is not None and doc_id == f"{rel}:{record}":
            stored = 0
        rows.append([stored, encoding, kind, size, offset, length, record])
    return rows


def encode(chunk: Chunk) -> bytes:
    """Serialise the path-independent part of a chunk."""
    sh = chunk.shingles
    arrays: dict[str, NDArray[Any]] = {
        "offsets": sh.offsets,
        "hashes": sh.hashes,
        "words": sh.words,
        "line_hashes": sh.line_hashes,
        "line_docs": sh.line_docs,
        "matrix": chunk.matrix,
    }
    header = {
        "docs": _doc_rows(chunk.docs),
        "shape": list(chunk.matrix.shape),
        "lengths": [int(arrays[name].size) for name, _ in _ARRAYS],
    }
    head = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    parts = [head, b"\n"]
    parts.extend(
        np.ascontiguousarray(arrays[name], dtype=np.dtype(dt).newbyteorder("<")).tobytes() for name, dt in _ARRAYS
    )
    return b"".join(parts)


@dataclass(frozen=True, slots=True)
class Batch:
    """A decoded batch: document rows and arrays, to be cut into files' ranges."""

    rows: list[list[Any]]
    shingles: Shingles
    matrix: NDArray[np.uint32]

    def take(self, lo: int, hi: int, source: SourceFile) -> DocBatch:
        """Documents lo..hi-1, as the file now at `source` gives them."""
        rel, path = source.rel, source.path
        rows = self.rows[lo:hi]
        if not rows:
            return DocBatch()
        stored, encodings, kinds, sizes, offsets, lengths, records = zip(*rows, strict=True)
        ids = tuple(rel if d is None else f"{rel}:{r}" if d == 0 else d for d, r in zip(stored, records, strict=True))
        n = len(rows)
        return DocBatch(ids, (rel,) * n, encodings, kinds, sizes, (path,) * n, offsets, lengths, records)


def decode(payload: bytes) -> Batch:
    """Read a batch back (arrays are views of the payload: no copy)."""
    end = payload.index(b"\n")
    header = json.loads(payload[:end].decode("utf-8", "surrogatepass"))
    pos = end + 1
    arrays: dict[str, NDArray[Any]] = {}
    for (name, dt), length in zip(_ARRAYS, header["lengths"], strict=True):
        dtype = np.dtype(dt).newbyteorder("<")
        arrays[name] = np.frombuffer(payload, dtype=dtype, count=length, offset=pos)
        pos += length * dtype.itemsize
    sh = Shingles(arrays["offsets"], arrays["hashes"], arrays["words"], arrays["line_hashes"], arrays["line_docs"])
    return Batch(header["docs"], sh, arrays["matrix"].reshape(header["shape"]))


def slice_shingles(sh: Shingles, lo: int, hi: int) -> Shingles:
    """Documents lo..hi-1 of a Shingles as one of their own."""
    a, b = int(sh.offsets[lo]), int(sh.offsets[hi])
    la, lb = np.searchsorted(sh.line_docs, [lo, hi])
    return Shingles(
        sh.offsets[lo : hi + 1] - a, sh.hashes[a:b], sh.words[lo:hi], sh.line_hashes[la:lb], sh.line_docs[la:lb] - lo
    )


def skipped_json(skipped: Sequence[Skipped], rel: str) -> str:
    """A file's skips with their rel made relative to the file (a moved file keeps them)."""
    if not skipped:
        return "[]"  # most files: no JSON encoder made for them
    rows = [[s.rel[len(rel) :] if s.rel.startswith(rel) else s.rel, s.reason.value, s.detail] for s in skipped]
    return json.dumps(rows, ensure_ascii=False).encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")


def skipped_from(text: str, rel: str) -> list[Skipped]:
    if text == "[]":
        return []  # the common case, without a JSON parse per file
    return [Skipped(rel + suffix, SkipReason(reason), detail) for suffix, reason, detail in json.loads(text)]


#: New batches are committed at most this often (a commit per batch of 256 files cost more
#: than their hashing); a run killed midway loses at most this much of its stored work.
COMMIT_EVERY_S = 2.0


class Cache:
    """The signature cache of one run: look files up, store new batches, commit."""

    def __init__(self, path: Path, config: ScanConfig) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.params = params_key(config)
        self._db = sqlite3.connect(path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        # Checkpoint (the one step that syncs to disk in WAL mode) every 64 MB of log, not 4 MB:
        # a first scan writes about 4 KB a document, and synced every 4 MB it took 30% longer.
        self._db.execute("PRAGMA wal_autocheckpoint=16384")
        self._db.execute("PRAGMA cache_size=-65536")  # 64 MB of pages: a transaction of new batches stays in memory
        if self._db.execute("PRAGMA user_version").fetchone()[0] != CACHE_VERSION:
            # Another layout (an older dedup): start afresh rather than misread it.
            self._db.executescript("".join(f"DROP TABLE IF EXISTS {table};" for table in _TABLES))
            self._db.execute(f"PRAGMA user_version={CACHE_VERSION}")
        self._db.executescript(_SCHEMA)
        self._seen_rows: dict[str, tuple[int, int, str]] | None = None  # read whole on first use
        self._content: dict[str, Hit] | None = None  # read whole on the first lookup
        self._loaded: tuple[int, Batch] | None = None
        self.hits = 0
        self.misses = 0
        self._committed = time.monotonic()

    @property
    def _seen(self) -> dict[str, tuple[int, int, str]]:
        """What this parameter set has seen: one read, instead of a query per file."""
        if self._seen_rows is None:
            rows = self._db.execute("SELECT path, size, mtime_ns, digest FROM seen WHERE params=?", (self.params,))
            self._seen_rows = {path: (size, mtime_ns, digest) for path, size, mtime_ns, digest in rows}
        return self._seen_rows

    def close(self) -> None:
        self._db.commit()
        self._db.close()

    def lookup(self, source: SourceFile) -> tuple[Hit | None, Stamp]:
        """Where a file's results are if its stat or its content is known, and its stamp."""
        stamp = self.stamp(source)
        return self.hit(stamp), stamp

    def stamp(self, source: SourceFile) -> Stamp:
        """The file's stamp: its content digest from the stat shortcut, else read."""
        real = _absolute(source.path)
        row = self._seen.get(real)
        if row is not None and row[0] == source.size and row[1] == source.mtime_ns:
            return Stamp(real, source.size, source.mtime_ns, row[2], by_stat=True)
        return Stamp(real, source.size, source.mtime_ns, content_digest(source.path))

    def hit(self, stamp: Stamp) -> Hit | None:
        """Where the results for a stamped file's content are, if cached."""
        if self._content is None:
            rows = self._db.execute("SELECT digest, batch, lo, hi, skipped FROM content WHERE params=?", (self.params,))
            self._content = {digest: Hit(batch, lo, hi, skipped) for digest, batch, lo, hi, skipped in rows}
        found = self._content.get(stamp.digest)
        if found is None:
            self.misses += 1
            return None
        if not stamp.by_stat:
            self._remember(stamp)  # moved or touched, same bytes: next time the stat will do
        self.hits += 1
        return found

    def batch(self, batch_id: int) -> Batch:
        """A stored batch (the last one read is kept: files of a batch come together)."""
        if self._loaded is None or self._loaded[0] != batch_id:
            payload = self._db.execute("SELECT payload FROM batches WHERE id=?", (batch_id,)).fetchone()[0]
            self._loaded = (batch_id, decode(payload))
        return self._loaded[1]

    def store(self, chunk: Chunk, sources: Sequence[SourceFile], stamps: Sequence[Stamp | None]) -> None:
        """Remember a freshly hashed chunk and which files it holds (unless they changed since)."""
        cur = self._db.execute("INSERT INTO batches (payload) VALUES (?)", (encode(chunk),))
        batch_id = cur.lastrowid
        lo = 0
        for source, stamp, count in zip(sources, stamps, chunk.counts, strict=True):
            hi = lo + count
            if stamp is not None and _unchanged(source.path, stamp):
                skips = [s for s in chunk.skipped if s.rel == source.rel or s.rel.startswith(source.rel + ":")]
                self._db.execute(
                    "INSERT OR REPLACE INTO content (digest, params, batch, lo, hi, skipped) VALUES (?, ?, ?, ?, ?, ?)",
                    (stamp.digest, self.params, batch_id, lo, hi, skipped_json(skips, source.rel)),
                )
                self._remember(stamp)
            lo = hi
        if time.monotonic() - self._committed >= COMMIT_EVERY_S:
            self.commit()  # a killed run keeps what was committed; close() commits the rest

    def commit(self) -> None:
        self._db.commit()
        self._committed = time.monotonic()

    def ranking(self, key: str) -> list[tuple[int, float, tuple[str, ...]]] | None:
        """A stored ranking: (position in the group, penalty, reasons), cleanest first."""
        row = self._db.execute("SELECT picks FROM rankings WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        return [(pos, penalty, tuple(reasons)) for pos, penalty, reasons in json.loads(row[0])]

    def store_rankings(self, rows: dict[str, list[tuple[int, float, tuple[str, ...]]]]) -> None:
        """Remember rankings (see ``ranking``); the oldest go past MAX_RANKINGS."""
        self._db.executemany(
            "INSERT OR REPLACE INTO rankings (key, picks) VALUES (?, ?)",
            ((key, json.dumps(picks)) for key, picks in rows.items()),
        )
        self._db.execute("DELETE FROM rankings WHERE rowid <= (SELECT MAX(rowid) FROM rankings) - ?", (MAX_RANKINGS,))
        self._db.commit()

    def result(self, key: str, *, by_stat: bool = False) -> ScanResult | None:
        """A stored scan result (see ``results`` in the module docstring), if there is one,
        by its content key, or by its stat key (``result_stats``)."""
        if by_stat:
            query = "SELECT payload FROM result_stats JOIN results ON results.key = result_stats.result"
            row = self._db.execute(query + " WHERE result_stats.key=?", (key,)).fetchone()
        else:
            row = self._db.execute("SELECT payload FROM results WHERE key=?", (key,)).fetchone()
        return None if row is None else decode_result(row[0])

    def store_result(self, key: str, result: ScanResult | None, stat_key: str | None = None) -> None:
        """Remember a scan's result (None: it is stored already) and its stat key; only the
        newest MAX_RESULTS are kept."""
        if result is not None:
            self._db.execute(
                "INSERT OR REPLACE INTO results (key, payload) VALUES (?, ?)", (key, encode_result(result))
            )
        if stat_key is not None:
            self._db.execute("INSERT OR REPLACE INTO result_stats (key, result) VALUES (?, ?)", (stat_key, key))
        self._db.execute(
            "DELETE FROM results WHERE rowid NOT IN (SELECT rowid FROM results ORDER BY rowid DESC LIMIT ?)",
            (MAX_RESULTS,),
        )
        self._db.execute("DELETE FROM result_stats WHERE result NOT IN (SELECT key FROM results)")
        self._db.commit()

    def prune(self) -> None:
        """Drop batches no file points at any more (files that changed or went away)."""
        self._db.execute("DELETE FROM batches WHERE id NOT IN (SELECT DISTINCT batch FROM content)")
        self._db.commit()

    def _remember(self, stamp: Stamp) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO seen (path, params, size, mtime_ns, digest) VALUES (?, ?, ?, ?, ?)",
            (stamp.real, self.params, stamp.size, stamp.mtime_ns, stamp.digest),
        )


def _absolute(path: str) -> str:
    """``os.path.abspath``, without its cost for the paths the walk makes (already clean)."""
    if not path.startswith("/"):
        return os.path.abspath(path)
    if "/." in path or "//" in path:
        return os.path.normpath(path)
    return path


def _unchanged(path: str, stamp: Stamp) -> bool:
    """The file still has the size and mtime it had when it was looked up (and hashed)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return st.st_size == stamp.size and st.st_mtime_ns == stamp.mtime_ns


def info(path: Path) -> dict[str, object]:
    """What a cache file holds: for ``dedup cache info``."""
    if not path.exists():
        return {"path": str(path), "exists": False}
    with sqlite3.connect(path) as db:
        files = db.execute("SELECT COUNT(*) FROM seen").fetchone()[0]
        contents = db.execute("SELECT COUNT(*) FROM content").fetchone()[0]
        kept = {}
        for table in ("rankings", "results"):
            try:
                kept[table] = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # two fixed table names
            except sqlite3.OperationalError:
                kept[table] = 0  # a cache written before the table existed
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    return {"path": str(path), "exists": True, "files": files, "contents": contents, **kept, "bytes": size}


def clear(path: Path) -> bool:
    """Delete a cache file (and its WAL side files); True if there was one."""
    found = False
    for p in [path, Path(str(path) + "-wal"), Path(str(path) + "-shm")]:
        if p.exists():
            p.unlink()
            found = True
    return found


# --- whole results: JSON (documents as columns), compressed ---------------------------

_MATCH_COLUMNS = ("a", "b", "jaccard", "containment", "rule")


def encode_result(result: ScanResult) -> bytes:
    """Serialise a ScanResult but its timings (JSON escapes lone surrogates of odd names)."""
    columns = (result.docs if isinstance(result.docs, DocTable) else DocTable.of(result.docs)).columns()
    paths: dict[str, int] = {}  # records of one file share its path: stored once
    for p in columns["path"]:
        paths.setdefault(p, len(paths))
    body = {
        "roots": list(result.roots),
        "params": result.params,
        "summary": dataclasses.asdict(result.summary),
        "clusters": [
            [c.cluster_id, [[getattr(m, f) for f in _MEMBER_FIELDS] for m in c.members]] for c in result.clusters
        ],
        "skipped": [[s.rel, s.reason.value, s.detail] for s in result.skipped],
        "matches": {name: [getattr(m, name) for m in result.matches] for name in _MATCH_COLUMNS},
        "warnings": list(result.warnings),
    }
    docs = {"docs": {**columns, "path": [paths[p] for p in columns["path"]]}, "paths": list(paths)}
    # Two parts: the documents table is half the size, and is parsed only if it is used.
    main = zlib.compress(json.dumps(body, separators=(",", ":")).encode("ascii"), 1)
    table = zlib.compress(json.dumps(docs, separators=(",", ":")).encode("ascii"), 1)
    return len(main).to_bytes(8, "little") + main + table


def _doc_table(raw: bytes) -> DocTable:
    body = json.loads(raw)
    cols, paths = body["docs"], body["paths"]
    return DocTable.from_columns({**cols, "path": [paths[i] for i in cols["path"]]})


def decode_result(payload: bytes) -> ScanResult:
    """The ScanResult ``encode_result`` stored (timings empty)."""
    cut = 8 + int.from_bytes(payload[:8], "little")
    body = json.loads(zlib.decompress(payload[8:cut]))
    # Decompressed now (zlib's checksum catches a damaged value here), parsed when first used.
    docs = DocTable.deferred(functools.partial(_doc_table, zlib.decompress(payload[cut:])))
    matches = body["matches"]
    return ScanResult(
        roots=tuple(body["roots"]),
        params=body["params"],
        summary=Summary(**body["summary"]),
        clusters=tuple(Cluster(cid, tuple(_member(v) for v in members)) for cid, members in body["clusters"]),
        skipped=tuple(Skipped(rel, SkipReason(reason), detail) for rel, reason, detail in body["skipped"]),
        docs=docs,
        matches=tuple(map(Match, *(matches[name] for name in _MATCH_COLUMNS))),
        warnings=tuple(body["warnings"]),
    )


_MEMBER_FIELDS = tuple(f.name for f in dataclasses.fields(Member))
_REASONS = _MEMBER_FIELDS.index("reasons")  # the one field JSON gives back as a list


def _member(values: list[Any]) -> Member:
    values[_REASONS] = tuple(values[_REASONS])
    return Member(*values)
