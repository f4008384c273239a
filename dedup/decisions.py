"""The per-document decision table: every input document, what the scan decided for it, and why.

One row per document in scan order (unique ones included), then one per skipped file or
record, so that a pipeline needs no second join: each row names its cluster, its decision,
the rule that decided, the digest of its text, its root and its absolute path. The JSON
export holds the same rows under ``"documents"``; ``dedup apply`` acts from them.

Columns (the JSON, JSON Lines, CSV and Parquet tables all have these, in this order):

=================  ========  =====================================================================
column             type      meaning
=================  ========  =====================================================================
id                 string    the document id (``path``, or ``path:record id``)
path               string    relative path of the source file
record             int64     1-based line (JSON Lines) or index (JSON array); null for files
record_id          string    the record's own id (``--id-field``); null for files and id-less records
kind               string    text, html, markdown or jsonl; null for skipped entries
cluster            int64     cluster number; null for unique and skipped documents
decision           string    ``unique``, ``kept``, ``dropped``, ``superset`` or ``skipped``
rule               string    what decided: for ``kept`` ``ranking`` (the cleanest-copy ranking) or
                             ``prefer:<rule>`` (a ``--prefer`` rule chose it); for ``dropped`` and
                             ``superset`` the rule that joined it to the kept copy (``jaccard``,
                             ``contains-cleanest``, ``inside-cleanest``, ``chain``); for ``skipped``
                             the skip reason; empty for ``unique``
kept               string    id of its cluster's kept copy; null outside clusters
digest             string    digest of the text as hashed: UTF-8 length (high 32 bits) and CRC-32
                             (low 32), 16 hex digits; null for skipped entries
bytes              int64     bytes of source the document accounts for (0 for skipped entries)
root               string    the scanned folder or file it was found under, as an absolute path
                             (``-`` for standard input)
absolute           string    absolute path of its file (a record's file for records); ``-`` for
                             standard input, whose temporary copy is gone after the scan
absolute_escaped   string    the absolute path escaped by ``lists.escape_name`` (exact, undo with
                             ``lists.unescape_name``) when it is not valid UTF-8; else null
detail             string    why it was skipped (skipped entries); else empty
=================  ========  =====================================================================

Names that are not valid UTF-8 are written as the JSON export writes them (``\\xNN`` for
the byte; see export.py) in every column but ``absolute_escaped``, which is exact. In CSV
every text column is escaped by ``lists.escape_name``, as the CSV export is.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path, PurePath
from typing import IO, Any

from .atomic import write_atomic
from .errors import ConfigError
from .extras import require_pyarrow
from .lists import escape_name, export_text
from .ray_input import absolute_path, is_url, url_base, url_below
from .records import DocTable, ScanResult
from .stdinput import STDIN, stdin_copies

__all__ = [
    "COLUMNS",
    "DECISIONS",
    "FORMATS",
    "decision_rows",
    "decisions_table",
    "exported_rows",
    "format_of",
    "json_rows",
    "parquet_table",
    "write_decisions",
    "write_parquet",
]

COLUMNS = ("id", "path", "record", "record_id", "kind", "cluster", "decision", "rule", "kept", "digest", "bytes",
           "root", "absolute", "absolute_escaped", "detail")  # fmt: skip
DECISIONS = ("unique", "kept", "dropped", "superset", "skipped")
FORMATS = ("json", "jsonl", "csv", "parquet")
_SUFFIXES = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
_INT_COLUMNS = frozenset({"record", "cluster", "bytes"})
_ESCAPED = frozenset({"id", "path", "record_id", "kept", "root", "absolute", "detail"})


def format_of(path: Path | str) -> str:
    """The table format a file suffix names.

    Raises:
        ConfigError: the suffix names no format.
    """
    found = _SUFFIXES.get(Path(str(path)).suffix.lower())
    if found is None:
        raise ConfigError(f"cannot tell the table format from '{path}': name it .json, .jsonl, .csv or .parquet")
    return found


def _root_for(rel: str, roots: Sequence[str]) -> str:
    """The root (as given) a relative path was found under: the only one, or the one whose
    POSIX form prefixes ``rel`` (several roots prefix their files' paths with themselves)."""
    if len(roots) == 1:
        return roots[0]
    best, best_len = "", -1
    for root in roots:
        prefix = url_base(root) if is_url(root) else PurePath(root).as_posix()  # an s3:// copy: its URL
        prefix = "" if prefix == "." else prefix
        if (rel == prefix or not prefix or rel.startswith(prefix + "/")) and len(prefix) > best_len:
            best, best_len = root, len(prefix)
    return best


def _root_holding(absolute: str, roots: Iterable[str]) -> str:
    """The root (absolute) that is ``absolute`` or holds it, the deepest; "" for none. For the
    files given by an absolute name, whose ids are relative to the working directory and so
    match no root as given."""
    holding = [r for r in roots if absolute == r or absolute.startswith(r.rstrip(os.sep) + os.sep)]
    return max(holding, key=len, default="")


def _absolute_of_skipped(rel: str, roots: Sequence[str]) -> str:
    """Where a skipped entry is: below the one folder scanned, else relative to the working
    directory (several roots, and files given by name, have rels that say so)."""
    root = _root_for(rel, roots)
    if is_url(root):  # a copy of s3:// files, gone after the scan: named by its URL
        return url_below(root, rel)
    if len(roots) == 1 and not os.path.isfile(roots[0]):
        return os.path.abspath(os.path.join(roots[0], rel))
    return os.path.abspath(rel)


#: Where a document stands: cluster, decision, rule, kept id (one tuple for all unique ones).
_Place = tuple["int | None", str, str, "str | None"]
#: One document's row as values: id, path, record (-1: none), record_id, kind, place,
#: digest, bytes, root, absolute.
_DocValues = tuple[str, str, int, "str | None", str, _Place, int, int, str, str]


_UNIQUE: _Place = (None, "unique", "", None)


def _placed(result: ScanResult) -> dict[str, _Place]:
    """doc id -> (cluster, decision, rule, kept id) for every cluster member."""
    placed: dict[str, _Place] = {}
    for cluster in result.clusters:
        kept = cluster.members[0].doc_id
        for m in cluster.members:
            if m.cleanest:
                chosen = getattr(m, "chosen_by", "")
                decision, rule = "kept", f"prefer:{chosen}" if chosen else "ranking"
            else:
                decision, rule = ("superset" if m.decision == "superset" else "dropped"), m.rule
            placed[m.doc_id] = (cluster.cluster_id, decision, rule, kept)
    return placed


def _doc_values(result: ScanResult) -> Iterator[_DocValues]:
    """The documents' rows, in ``result.docs`` order, as tuples (no dict a row)."""
    placed = _placed(result)
    roots = result.roots
    root_abs = {r: absolute_path(r) for r in roots}
    one_root = absolute_path(roots[0]) if len(roots) == 1 else None
    docs = result.docs
    cols = docs.columns() if isinstance(docs, DocTable) else DocTable.of(docs).columns()  # no object a row
    absolutes: dict[str, str] = {}  # a file's records share its path
    stdin, cwd = stdin_copies(), os.getcwd()
    for doc_id, rel, kind, path, record, record_id, size, digest in zip(
        cols["doc_id"], cols["rel"], cols["kind"], cols["path"], cols["record"], cols["record_id"], cols["size"],
        cols["digest"], strict=True,
    ):  # fmt: skip
        place = placed.get(doc_id, _UNIQUE)
        absolute = absolutes.get(path)
        if absolute is None:  # standard input is "-": its temporary copy is gone after the run
            absolute = absolutes[path] = STDIN if path in stdin else absolute_path(path, cwd)
        root = (
            STDIN
            if absolute == STDIN
            else one_root or root_abs.get(_root_for(rel, roots)) or _root_holding(absolute, root_abs.values())
        )
        yield doc_id, rel, record, record_id, kind, place, digest, size, root, absolute


def _skipped_rows(result: ScanResult) -> Iterator[dict[str, Any]]:
    """The skipped entries' rows, in ``result.skipped`` order."""
    roots = result.roots
    for k in result.skipped:
        piped = k.rel == STDIN and STDIN in roots
        yield {
            "id": k.rel,
            "path": k.rel,
            "record": None,
            "record_id": None,
            "kind": None,
            "cluster": None,
            "decision": "skipped",
            "rule": str(k.reason),
            "kept": None,
            "digest": None,
            "bytes": 0,
            "root": STDIN if piped else absolute_path(_root_for(k.rel, roots)),
            "absolute": STDIN if piped else _absolute_of_skipped(k.rel, roots),
            "detail": k.detail,
        }


def decision_rows(result: ScanResult) -> Iterator[dict[str, Any]]:
    """The table's rows, as Python values (names as the scan holds them, not escaped).

    Documents come in ``result.docs`` order, then the skipped entries in their order.
    """
    for doc_id, rel, record, record_id, kind, place, digest, size, root, absolute in _doc_values(result):
        cluster_id, decision, rule, kept_id = place
        yield {
            "id": doc_id,
            "path": rel,
            "record": None if record < 0 else record,
            "record_id": record_id,
            "kind": kind,
            "cluster": cluster_id,
            "decision": decision,
            "rule": rule,
            "kept": kept_id,
            "digest": f"{digest:016x}",
            "bytes": size,
            "root": root,
            "absolute": absolute,
            "detail": "",
        }
    yield from _skipped_rows(result)


_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)
_STR = json.encoder.encode_basestring  # what _ENCODER writes a str with (C where built)


def _json_str(s: str | None) -> str:
    """A name as ``_ENCODER`` writes it in an exported row (``export_text`` first)."""
    return "null" if s is None else _STR(s if s.isascii() else export_text(s))


def json_rows(result: ScanResult) -> Iterator[str]:
    """``_ENCODER.encode(row)`` of each row of ``exported_rows``, written without the dicts:
    the JSON export holds a row per document, and building, escaping and encoding two dicts
    a row was most of its time (a test holds the two equal). What rows share (a file's
    path, a cluster's kept copy, the root) is encoded once."""
    places: dict[_Place, str] = {}  # a place -> its keys as JSON
    kinds: dict[str, str] = {}
    where: dict[tuple[str, str], str] = {}  # (root, absolute) -> those keys as JSON
    last_rel, rel_json = None, ""
    for doc_id, rel, record, record_id, kind, place, digest, size, root, absolute in _doc_values(result):
        if rel != last_rel:  # the records of a file come together
            last_rel, rel_json = rel, _json_str(rel)
        placed = places.get(place)
        if placed is None:
            cluster_id, decision, rule, kept_id = place
            placed = places[place] = (
                f'"cluster": {"null" if cluster_id is None else int.__repr__(cluster_id)}, '
                f'"decision": {_STR(decision)}, "rule": {_json_str(rule)}, "kept": {_json_str(kept_id)}'
            )
        kind_json = kinds.get(kind)
        if kind_json is None:
            kind_json = kinds[kind] = _json_str(kind)
        tail = where.get((root, absolute))
        if tail is None:
            escaped = _json_str(escape_name(absolute)) if export_text(absolute) != absolute else "null"
            tail = where[root, absolute] = (
                f'"root": {_json_str(root)}, "absolute": {_json_str(absolute)}, "absolute_escaped": {escaped}'
            )
        yield (
            f'{{"id": {_json_str(doc_id)}, "path": {rel_json}, '
            f'"record": {"null" if record < 0 else int.__repr__(record)}, "record_id": {_json_str(record_id)}, '
            f'"kind": {kind_json}, {placed}, "digest": "{digest:016x}", "bytes": {int.__repr__(size)}, {tail}, '
            '"detail": ""}'
        )
    for row in map(_exported, _skipped_rows(result)):
        yield _ENCODER.encode(row)


def _exported(row: dict[str, Any]) -> dict[str, Any]:
    """A row as JSON and Parquet hold it: valid UTF-8 everywhere, the exact path beside."""
    out = {c: export_text(v) if isinstance(v, str) and not v.isascii() else v for c, v in row.items()}
    absolute = row["absolute"]
    out["absolute_escaped"] = escape_name(absolute) if out["absolute"] != absolute else None
    return {c: out[c] for c in COLUMNS}


def exported_rows(result: ScanResult) -> Iterator[dict[str, Any]]:
    """The rows as written to JSON, JSON Lines and Parquet."""
    return map(_exported, decision_rows(result))


def _write_jsonl(result: ScanResult, out: IO[str]) -> None:
    for row in json_rows(result):
        out.write(row.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\u0085", "\\u0085"))
        out.write("\n")


def _write_json(result: ScanResult, out: IO[str]) -> None:
    out.write('{"schema": "dedup.decisions/1", "documents": [\n')
    first = True
    for row in json_rows(result):
        out.write(("" if first else ",\n") + row)
        first = False
    out.write("\n]}\n")


def _write_csv(result: ScanResult, out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in decision_rows(result):
        row["absolute_escaped"] = None
        cells = []
        for c in COLUMNS:
            value = row[c]
            cells.append("" if value is None else escape_name(value) if c in _ESCAPED else value)
        writer.writerow(cells)


def parquet_table(
    rows: list[dict[str, Any]],
    columns: Sequence[str],
    ints: frozenset[str],
    floats: frozenset[str] = frozenset(),
    bools: frozenset[str] = frozenset(),
) -> Any:
    """Rows as a pyarrow Table with one explicit type per column (strings by default)."""
    pa, _ = require_pyarrow("writing Parquet")

    def kind(c: str) -> Any:
        if c in ints:
            return pa.int64()
        if c in floats:
            return pa.float64()
        if c in bools:
            return pa.bool_()
        return pa.string()

    schema = pa.schema([(c, kind(c)) for c in columns])
    return pa.Table.from_pylist(rows, schema=schema)


def write_parquet(path: Path | str, table: Any) -> None:
    """A pyarrow Table to a Parquet file, all or nothing."""
    _, pq = require_pyarrow("writing Parquet")
    write_atomic(path, lambda out: pq.write_table(table, out), binary=True)


def write_decisions(result: ScanResult, path: Path | str, fmt: str | None = None) -> None:
    """Write the decision table (see the module docstring) as JSON, JSON Lines, CSV or Parquet.

    Args:
        result: the scan; it needs ``result.docs``.
        path: the file to write; ``-`` for stdout.
        fmt: ``json``, ``jsonl``, ``csv`` or ``parquet``; None to tell it from the suffix.

    Raises:
        ConfigError: the format is unknown.
        MissingExtra: Parquet without pyarrow (the message names the install command).
        ExportError: the file could not be written; the target is left as it was.
    """
    kind = fmt or format_of(path)
    if kind not in FORMATS:
        raise ConfigError(f"unknown table format {kind!r}: use json, jsonl, csv or parquet")
    if kind == "json":
        write_atomic(path, lambda out: _write_json(result, out))
    elif kind == "jsonl":
        write_atomic(path, lambda out: _write_jsonl(result, out))
    elif kind == "csv":
        write_atomic(path, lambda out: _write_csv(result, out))
    else:
        write_parquet(path, decisions_table(result))


def decisions_table(result: ScanResult) -> Any:
    """The decision table as a pyarrow Table, as its Parquet file holds it."""
    return parquet_table(list(exported_rows(result)), COLUMNS, _INT_COLUMNS)
