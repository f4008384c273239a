"""A cache of what hashing a file produced, so a rescan reads only the files that changed.

The cache is one SQLite file (default ``~/.cache/dedup/signatures.sqlite``; see
``default_path``). Two tables:

* ``seen``: (real path, size, mtime_ns, parameters) -> content digest. A file whose
  size and modification time are unchanged is not opened at all.
* ``content``: (content digest, parameters) -> the file's documents, skips, shingle sets,
  short-line hashes and signatures. A file that was touched or moved but has the same bytes
  is found here after one read (BLAKE2b of its bytes), without extraction or hashing.

"Parameters" is a digest of every setting that changes what hashing a file gives (fields,
shingle sizes, permutations, seed) and of the hash scheme's version, so a run with other
settings never reads entries it cannot use. SQLite's transactions make the file safe
against a run killed midway: a batch is either in the cache or not. A cache that cannot be
opened or read is reported once and the scan goes on without it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .config import ScanConfig
from .errors import SkipReason
from .records import DocKind, Document, Locator, Skipped
from .shingle import Shingles

#: Bump when the payload layout or any hash definition changes.
CACHE_VERSION = 1
#: Files with more documents than this are not cached (a SQLite value is at most 1 GB).
MAX_CACHED_DOCS = 50_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    path TEXT NOT NULL, params TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    digest TEXT NOT NULL, PRIMARY KEY (path, params)
);
CREATE TABLE IF NOT EXISTS content (
    digest TEXT NOT NULL, params TEXT NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (digest, params)
);
"""


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


def content_digest(path: Path) -> str:
    """BLAKE2b of a file's bytes, read in blocks."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class FileResult:
    """What hashing one file gave: its documents (without text), skips and arrays."""

    rel: str
    docs: tuple[Document, ...]
    skipped: tuple[Skipped, ...]
    shingles: Shingles
    matrix: NDArray[np.uint32]


# --- payload: a JSON header line, then raw little-endian arrays ----------------------------

_ARRAYS = (
    ("offsets", np.int64),
    ("hashes", np.uint64),
    ("words", np.int64),
    ("line_hashes", np.uint64),
    ("line_docs", np.int64),
    ("matrix", np.uint32),
)


def _doc_row(doc: Document, rel: str) -> list[object]:
    # Ids made from the path are stored as markers, so a moved file gets its new ids.
    doc_id: object = doc.doc_id
    if doc.doc_id == rel:
        doc_id = None
    elif doc.record is not None and doc.doc_id == f"{rel}:{doc.record}":
        doc_id = 0
    return [doc_id, doc.encoding, doc.kind, doc.size, doc.locator.offset, doc.locator.length, doc.record]


def encode(result: FileResult) -> bytes:
    """Serialise a FileResult without its path-dependent parts."""
    rel = result.rel
    skipped = [[s.rel[len(rel) :] if s.rel.startswith(rel) else s.rel, s.reason.value, s.detail] for s in result.skipped]
    sh = result.shingles
    arrays: dict[str, NDArray[Any]] = {
        "offsets": sh.offsets,
        "hashes": sh.hashes,
        "words": sh.words,
        "line_hashes": sh.line_hashes,
        "line_docs": sh.line_docs,
        "matrix": result.matrix,
    }
    header = {
        "docs": [_doc_row(d, rel) for d in result.docs],
        "skipped": skipped,
        "shape": list(result.matrix.shape),
        "lengths": [int(arrays[name].size) for name, _ in _ARRAYS],
    }
    parts = [json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"), b"\n"]
    parts.extend(np.ascontiguousarray(arrays[name], dtype=np.dtype(dt).newbyteorder("<")).tobytes() for name, dt in _ARRAYS)
    return b"".join(parts)


def decode(payload: bytes, rel: str, path: Path) -> FileResult:
    """Rebuild a FileResult for the file now at `rel` / `path`."""
    end = payload.index(b"\n")
    header = json.loads(payload[:end].decode("utf-8", "surrogatepass"))
    pos = end + 1
    arrays: dict[str, NDArray[np.generic]] = {}
    for (name, dt), length in zip(_ARRAYS, header["lengths"], strict=True):
        dtype = np.dtype(dt).newbyteorder("<")
        arrays[name] = np.frombuffer(payload, dtype=dtype, count=length, offset=pos).astype(dt)
        pos += length * dtype.itemsize
    docs = []
    for doc_id, encoding, kind, size, offset, length, record in header["docs"]:
        if doc_id is None:
            doc_id = rel
        elif doc_id == 0:
            doc_id = f"{rel}:{record}"
        kind_: DocKind = kind
        docs.append(Document(doc_id, rel, "", encoding, kind_, size, Locator(path, offset, length), record))
    skipped = tuple(Skipped(rel + suffix, SkipReason(reason), detail) for suffix, reason, detail in header["skipped"])
    sh = Shingles(
        arrays["offsets"].astype(np.int64),
        arrays["hashes"].astype(np.uint64),
        arrays["words"].astype(np.int64),
        arrays["line_hashes"].astype(np.uint64),
        arrays["line_docs"].astype(np.int64),
    )
    matrix = arrays["matrix"].astype(np.uint32).reshape(header["shape"])
    return FileResult(rel, tuple(docs), skipped, sh, matrix)


class Cache:
    """The signature cache of one run: look files up, store new results, commit in batches."""

    def __init__(self, path: Path, config: ScanConfig) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.params = params_key(config)
        self._db = sqlite3.connect(path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self.hits = 0
        self.misses = 0
        # One read of what this parameter set has seen, instead of a query per file.
        self._seen = {
            path: (size, mtime_ns, digest)
            for path, size, mtime_ns, digest in self._db.execute(
                "SELECT path, size, mtime_ns, digest FROM seen WHERE params=?", (self.params,)
            )
        }

    def close(self) -> None:
        self._db.commit()
        self._db.close()

    def lookup(self, rel: str, path: Path) -> tuple[FileResult | None, Stamp]:
        """The cached result for a file if its stat or its content is known, and its stamp."""
        real, size, mtime_ns = _stat_key(path)
        row = self._seen.get(real)
        same_stat = row is not None and row[0] == size and row[1] == mtime_ns
        digest = row[2] if row is not None and same_stat else content_digest(path)
        stamp = Stamp(real, size, mtime_ns, digest)
        hit = self._db.execute("SELECT payload FROM content WHERE digest=? AND params=?", (digest, self.params)).fetchone()
        if hit is None:
            self.misses += 1
            return None, stamp
        if not same_stat:
            self._remember(stamp)
        self.hits += 1
        return decode(hit[0], rel, path), stamp

    def store(self, result: FileResult, path: Path, stamp: Stamp) -> None:
        """Remember a freshly hashed file, unless it changed since it was looked up."""
        if len(result.docs) > MAX_CACHED_DOCS or _stat_key(path) != (stamp.real, stamp.size, stamp.mtime_ns):
            return
        self._db.execute(
            "INSERT OR REPLACE INTO content (digest, params, payload) VALUES (?, ?, ?)",
            (stamp.digest, self.params, encode(result)),
        )
        self._remember(stamp)

    def commit(self) -> None:
        self._db.commit()

    def _remember(self, stamp: Stamp) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO seen (path, params, size, mtime_ns, digest) VALUES (?, ?, ?, ?, ?)",
            (stamp.real, self.params, stamp.size, stamp.mtime_ns, stamp.digest),
        )


@dataclass(frozen=True, slots=True)
class Stamp:
    """A file as it was looked up: where it really is, its stat and its content digest."""

    real: str
    size: int
    mtime_ns: int
    digest: str


def _stat_key(path: Path) -> tuple[str, int, int]:
    """(absolute path, size, mtime_ns): a changed file changes one of them."""
    st = os.stat(path)
    return os.path.abspath(path), st.st_size, st.st_mtime_ns


def info(path: Path) -> dict[str, object]:
    """What a cache file holds: for ``dedup cache info``."""
    if not path.exists():
        return {"path": str(path), "exists": False}
    with sqlite3.connect(path) as db:
        files = db.execute("SELECT COUNT(*) FROM seen").fetchone()[0]
        contents = db.execute("SELECT COUNT(*) FROM content").fetchone()[0]
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    return {"path": str(path), "exists": True, "files": files, "contents": contents, "bytes": size}


def clear(path: Path) -> bool:
    """Delete a cache file (and its WAL side files); True if there was one."""
    found = False
    for p in [path, Path(str(path) + "-wal"), Path(str(path) + "-shm")]:
        if p.exists():
            p.unlink()
            found = True
    return found
