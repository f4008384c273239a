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
from .records import DocTable, ScanResult
from .stdinput import STDIN, is_stdin_copy

__all__ = [
    "COLUMNS",
    "DECISIONS",
    "FORMATS",
    "decision_rows",
    "decisions_table",
    "exported_rows",
    "format_of",
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
        prefix = PurePath(root).as_posix()
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
    if len(roots) == 1 and not os.path.isfile(roots[0]):
        return os.path.abspath(os.path.join(roots[0], rel))
    return os.path.abspath(rel)


def decision_rows(result: ScanResult) -> Iterator[dict[str, Any]]:
    """The table's rows, as Python values (names as the scan holds them, not escaped).

    Documents come in ``result.docs`` order, then the skipped entries in their order.
    """
    placed: dict[str, tuple[int, str, str, str]] = {}  # doc id -> cluster, decision, rule, kept id
    for cluster in result.clusters:
        kept = cluster.members[0].doc_id
        for m in cluster.members:
            if m.cleanest:
                chosen = getattr(m, "chosen_by", "")
                decision, rule = "kept", f"prefer:{chosen}" if chosen else "ranking"
            else:
                decision, rule = ("superset" if m.decision == "superset" else "dropped"), m.rule
            placed[m.doc_id] = (cluster.cluster_id, decision, rule, kept)
    roots = result.roots
    root_abs = {r: os.path.abspath(r) for r in roots}
    one_root = os.path.abspath(roots[0]) if len(roots) == 1 else None
    docs = result.docs
    cols = docs.columns() if isinstance(docs, DocTable) else DocTable.of(docs).columns()  # no object a row
    absolutes: dict[str, str] = {}  # a file's records share its path
    for doc_id, rel, kind, path, record, record_id, size, digest in zip(
        cols["doc_id"], cols["rel"], cols["kind"], cols["path"], cols["record"], cols["record_id"], cols["size"],
        cols["digest"], strict=True,
    ):  # fmt: skip
        cluster_id, decision, rule, kept_id = placed.get(doc_id, (None, "unique", "", None))
        absolute = absolutes.get(path)
        if absolute is None:  # standard input is "-": its temporary copy is gone after the run
            absolute = absolutes[path] = STDIN if is_stdin_copy(path) else os.path.abspath(path)
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
            "root": STDIN
            if absolute == STDIN
            else one_root or root_abs.get(_root_for(rel, roots)) or _root_holding(absolute, root_abs.values()),
            "absolute": absolute,
            "detail": "",
        }
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
            "root": STDIN if piped else os.path.abspath(_root_for(k.rel, roots)),
            "absolute": STDIN if piped else _absolute_of_skipped(k.rel, roots),
            "detail": k.detail,
        }


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
    for row in exported_rows(result):
        out.write(json.dumps(row, ensure_ascii=False, allow_nan=False).replace("\u2028", "\\u2028")
                  .replace("\u2029", "\\u2029").replace("\u0085", "\\u0085"))  # fmt: skip
        out.write("\n")


def _write_json(result: ScanResult, out: IO[str]) -> None:
    out.write('{"schema": "dedup.decisions/1", "documents": [\n')
    first = True
    for row in exported_rows(result):
        out.write(("" if first else ",\n") + json.dumps(row, ensure_ascii=False, allow_nan=False))
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
