"""The signature cache's value formats: a batch of hashed files (a JSON header line, then
raw little-endian arrays) and a whole scan result (JSON, documents as columns, compressed)."""

from __future__ import annotations

import dataclasses
import functools
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

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
    document_id,
)
from .sets import Chunk, Shingles

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
    """[record id, encoding, kind, size, offset, length, record, digest] per document. The
    document id is made from the path again (``document_id``), so a moved file gets its new ids."""
    rows: list[list[object]] = []
    columns = zip(*docs.columns(), strict=True)
    for _id, _rel, encoding, kind, size, _path, offset, length, record, record_id, digest in columns:
        rows.append([record_id, encoding, kind, size, offset, length, record, digest])
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
        record_ids, encodings, kinds, sizes, offsets, lengths, records, digests = zip(*rows, strict=True)
        ids = tuple(map(document_id, (rel,) * len(rows), records, record_ids))
        n = len(rows)
        return DocBatch(
            ids, (rel,) * n, encodings, kinds, sizes, (path,) * n, offsets, lengths, records, record_ids, digests
        )


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


def skipped_json(skipped: Sequence[Skipped], rel: str) -> str:
    """A file's skips with their rel made relative to the file (a moved file keeps them)."""
    if not skipped:
        return "[]"  # most files: no JSON encoder made for them
    rows = [[s.rel[len(rel) :] if s.rel.startswith(rel) else s.rel, s.reason.value, s.detail] for s in skipped]
    return json.dumps(rows)  # ASCII: the lone surrogates of undecodable names escaped, as SQLite text must be UTF-8


def skipped_from(text: str, rel: str) -> list[Skipped]:
    if text == "[]":
        return []  # the common case, without a JSON parse per file
    return [Skipped(rel + suffix, SkipReason(reason), detail) for suffix, reason, detail in json.loads(text)]


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
