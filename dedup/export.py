"""ScanResult -> JSON, JSON Lines, CSV or Parquet; every file written atomically (atomic.py).

A failed write raises ``ExportError("cannot write <path>: <reason>")`` and leaves the
target as it was. The path ``-`` means stdout. The keep and drop lists are lists.py's, the
per-document decision table decisions.py's.

Export formats
--------------

``--format json`` (schema ``dedup.scan/1``): one JSON document, UTF-8, indented by 2 (each
cluster and each skipped entry on one line of its own, as compact JSON),
ending with a newline (the ``#`` comments explain fields; they are not in the file)::

    {
      "schema": "dedup.scan/1",        # name/version of this layout; bumped on any breaking change
      "version": "0.1.0",              # the dedup version that wrote the file
      "roots": ["scraped/"],           # the folders scanned, as given
      "params": {...},                 # every parameter that shapes results (ScanConfig.params())
      "summary": {
        "files": 120,                  # files read (not skipped)
        "documents": 131,              # documents: whole files, and each record of JSON Lines/JSON files
        "skipped": 4,                  # files and records left out (listed under "skipped")
        "clusters": 2,                 # groups of near-duplicate documents
        "duplicates": 3,               # cluster members that are not the cleanest copy
        "bytes_saved": 17321,          # bytes of those duplicates: what dropping them saves
        "candidates": 57,              # candidate pairs proposed by LSH and the containment path
        "matches": 4                   # candidate pairs verified as near-duplicates
      },
      "clusters": [
        {
          "cluster": 1,                # from 1, by each cluster's first document; the report shows it
          "size": 2,                   # number of members
          "cleanest": "news/a.html",   # id of the cleanest member (members[0])
          "members": [                 # the cleanest first, then the others
            {
              "id": "news/a.html",     # document id: the relative path, or "path:record id"
              "path": "news/a.html",   # relative path of the source file
              "record": null,          # 1-based line (JSON Lines) or index (JSON array); null for files
              "record_id": null,       # the record's own id (--id-field); null for files and id-less records
              "cleanest": true,
              "jaccard": 1.0,          # exact shingle Jaccard with the cleanest copy (1.0 for itself)
              "containment": 1.0,      # share of the cleanest copy's shingles found in this member
              "words": 612,
              "bytes": 6975,           # bytes of source this document accounts for
              "penalty": 0.12,         # lower is cleaner
              "reasons": ["..."]       # why it won (cleanest) or lost (others)
            }
          ]
        }
      ],
      "skipped": [
        {"path": "img/logo.png", "reason": "binary", "detail": "NUL byte at offset 12"}
      ],
      "documents": [                   # the decision table: every document, then every skipped entry
        {"id": "news/a.html", "decision": "kept", "rule": "ranking", "digest": "00001b3f8c2a9e41", ...}
      ]
    }

``reason`` is one of: unreadable, binary, empty, too-large, symlink-loop, bad-record,
extract-failed, changed-during-scan. Floats are rounded to 4 decimals.

Each member also has its evidence (see evidence.py): ``in_cleanest`` (share of its shingles
found in the cleanest copy), ``rule`` (``jaccard``, ``contains-cleanest``, ``inside-cleanest``,
``chain``; empty for the cleanest), ``own_words`` (its words outside the cleanest copy),
``boilerplate_words`` (of those, boilerplate or held by another document) and ``decision``
(``keep``, ``drop`` or ``superset``: a superset holds substantive text of its own and is on
no drop list). JSON Lines and CSV carry the same keys, CSV as its last columns.

``--format jsonl``: one JSON object per line per cluster member, clusters in order and the
cleanest member first: ``{"cluster": 1, "id", "path", "record", "record_id", "cleanest", "jaccard",
"containment", "words", "bytes", "penalty", "reasons"}`` with the meanings above.

``"documents"`` is the per-document decision table, one row per line, with the columns
decisions.py documents (``dedup apply`` reads it; ``--decisions FILE`` writes it alone).

``--format parquet``: the CSV's rows and columns as a Parquet table (pyarrow, the
``parquet`` extra): ``cluster``, ``record``, ``words``, ``bytes``, ``own_words`` and
``boilerplate_words`` int64 (``record`` null for files), ``jaccard``, ``containment``,
``penalty`` and ``in_cleanest`` float64, ``cleanest`` bool, the rest strings (``reasons``
joined with ``"; "``); names as in JSON.

``--format csv``: a header row, then one row per cluster member in the same order, columns
``cluster,id,path,record,cleanest,jaccard,containment,words,bytes,penalty,reasons,record_id``;
``record`` and ``record_id`` are empty for files, ``cleanest`` is ``true``/``false`` and ``reasons`` are
joined with ``"; "``. Written by Python's csv module (RFC 4180 quoting, CRLF rows). Values
are not altered to defuse spreadsheet formulas: open untrusted names as text.

Names that are not valid UTF-8 (file names Python decoded with surrogateescape) are written
in JSON and JSON Lines with the bad bytes as backslash escapes: the byte 0xff becomes the
four characters ``\\xff`` (see lists.py for the lists, the CSV's escaping, and
:func:`lists.unescape_name`). Files are written all or nothing (see atomic.py).
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterator, Mapping
from enum import Enum
from pathlib import Path, PurePath
from typing import IO, Any

from .atomic import process_alive, reason_of, write_atomic, write_text_atomic
from .decisions import exported_rows, json_rows, parquet_table, write_parquet
from .errors import ConfigError, InputError
from .lists import escape_name, export_text, name_bytes, unescape_name, write_lists
from .records import Cluster, Member, ScanResult

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "escape_name",
    "export_text",
    "format_for",
    "member_rows",
    "name_bytes",
    "parquet_export",
    "process_alive",
    "read_export",
    "to_dict",
    "unescape_name",
    "write_export",
    "write_lists",
    "write_text_atomic",
]

SCHEMA_VERSION = 1
SCHEMA = f"dedup.scan/{SCHEMA_VERSION}"
FORMATS = ("json", "jsonl", "csv", "parquet")
CSV_COLUMNS = (
    "cluster",
    "id",
    "path",
    "record",
    "cleanest",
    "jaccard",
    "containment",
    "words",
    "bytes",
    "penalty",
    "reasons",
    "record_id",
    "in_cleanest",
    "rule",
    "own_words",
    "boilerplate_words",
    "decision",
)

_SUFFIXES = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
# Parquet column types of the member rows (the CSV's columns; other columns are strings).
_PARQUET_INTS = frozenset({"cluster", "record", "words", "bytes", "own_words", "boilerplate_words"})
_PARQUET_FLOATS = frozenset({"jaccard", "containment", "penalty", "in_cleanest"})
_DIGITS = 4  # decimals kept for floats: enough to rank, short enough to read

# Characters str.splitlines() breaks on that json.dumps leaves raw: a JSON Lines reader
# using splitlines() would cut a record in two.
_LINE_BREAKS_IN_JSON = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}
_JSON_LINE_BREAK = re.compile("[\u0085\u2028\u2029]")


# One encoder for every line of an export: json.dumps with options builds a new one per call.
_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def _one_line(text: str) -> str:
    """JSON text with the line breaks JSON leaves raw escaped (a search first: translate
    looks every character up in a dict, which a big export pays for on every line; and
    ASCII text, most lines, holds none of them: isascii() is a flag lookup)."""
    if text.isascii() or not _JSON_LINE_BREAK.search(text):
        return text
    return text.translate(_LINE_BREAKS_IN_JSON)


def _jsonable(value: object) -> object:
    """Params as plain JSON values; a value JSON cannot hold raises TypeError."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return round(value, _DIGITS)
    if isinstance(value, Enum):
        return _jsonable(value.value)
    if isinstance(value, str):
        return export_text(value)
    if isinstance(value, PurePath):
        return export_text(value.as_posix())
    if isinstance(value, Mapping):
        return {export_text(str(k)): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_jsonable(v) for v in value), key=repr)
    raise TypeError(f"a params value of type {type(value).__name__} cannot be written as JSON")


def _member(member: Member) -> dict[str, object]:
    """One member as exported (without its cluster number)."""
    return {
        "id": export_text(member.doc_id),
        "path": export_text(member.rel),
        "record": member.record,
        "record_id": None if member.record_id is None else export_text(member.record_id),
        "cleanest": member.cleanest,
        "jaccard": round(member.jaccard, _DIGITS),
        "containment": round(member.containment, _DIGITS),
        "words": member.words,
        "bytes": member.size,
        "penalty": round(member.penalty, _DIGITS),
        "reasons": [export_text(r) for r in member.reasons],
        "in_cleanest": round(member.in_cleanest, _DIGITS),
        "rule": member.rule,
        "own_words": member.own_words,
        "boilerplate_words": member.boilerplate_words,
        "decision": member.decision,
    }


_STR = json.encoder.encode_basestring  # what _LINE_ENCODER writes a str with (C where built)


def _float_json(value: float) -> str:
    """A float rounded to ``_DIGITS`` as _LINE_ENCODER writes it (no NaN or infinity)."""
    value = round(value, _DIGITS)
    if value != value or value in (math.inf, -math.inf):
        raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
    return float.__repr__(value)


def _member_json(member: Member) -> str:
    """``_LINE_ENCODER.encode(_member(member))``, written without the dict: a rescan's
    export is most of its time after the walk, and json spent 10 µs a member here on
    building, then walking, a dict of ten keys (a test holds the two equal)."""
    m = member
    record = "null" if m.record is None else int.__repr__(m.record)
    record_id = "null" if m.record_id is None else _STR(export_text(m.record_id))
    reasons = ", ".join([_STR(export_text(r)) for r in m.reasons])
    return (
        f'{{"id": {_STR(export_text(m.doc_id))}, "path": {_STR(export_text(m.rel))}, "record": {record}, '
        f'"record_id": {record_id}, '
        f'"cleanest": {"true" if m.cleanest else "false"}, "jaccard": {_float_json(m.jaccard)}, '
        f'"containment": {_float_json(m.containment)}, "words": {int.__repr__(m.words)}, '
        f'"bytes": {int.__repr__(m.size)}, "penalty": {_float_json(m.penalty)}, "reasons": [{reasons}], '
        f'"in_cleanest": {_float_json(m.in_cleanest)}, "rule": "{m.rule}", "own_words": {int.__repr__(m.own_words)}, '
        f'"boilerplate_words": {int.__repr__(m.boilerplate_words)}, "decision": "{m.decision}"}}'
    )


def _cluster_json(cluster: Cluster) -> str:
    """``_LINE_ENCODER.encode(_cluster(cluster))``, written as ``_member_json`` is."""
    members = cluster.members
    cleanest = _STR(export_text(members[0].doc_id)) if members else "null"
    return (
        f'{{"cluster": {int.__repr__(cluster.cluster_id)}, "size": {len(members)}, "cleanest": {cleanest}, '
        f'"members": [{", ".join([_member_json(m) for m in members])}]}}'
    )


def _cluster(cluster: Cluster) -> dict[str, object]:
    """One cluster as exported."""
    return {
        "cluster": cluster.cluster_id,
        "size": len(cluster.members),
        "cleanest": export_text(cluster.members[0].doc_id) if cluster.members else None,
        "members": [_member(m) for m in cluster.members],
    }


def to_dict(result: ScanResult, version: str) -> dict[str, object]:
    """The JSON export of a scan as a dict (the layout in this module's docstring).

    Args:
        result: the scan.
        version: the dedup version writing the export.

    Returns:
        A dict of JSON values only.

    Raises:
        TypeError: a params value that JSON cannot hold.
    """
    return {
        **_head(result, version),
        "clusters": [_cluster(c) for c in result.clusters],
        "skipped": _skipped(result),
        "documents": list(exported_rows(result)),
    }


def _head(result: ScanResult, version: str) -> dict[str, object]:
    """The export's keys before its clusters."""
    s = result.summary
    return {
        "schema": SCHEMA,
        "version": version,
        "roots": [export_text(r) for r in result.roots],
        "params": _jsonable(result.params),
        "summary": {
            "files": s.files,
            "documents": s.documents,
            "skipped": s.skipped,
            "clusters": s.clusters,
            "duplicates": s.duplicates,
            "bytes_saved": s.bytes_saved,
            "candidates": s.candidates,
            "matches": s.matches,
        },
    }


def _skipped(result: ScanResult) -> list[dict[str, str]]:
    return [
        {"path": export_text(k.rel), "reason": str(k.reason), "detail": export_text(k.detail)} for k in result.skipped
    ]


def member_rows(result: ScanResult) -> Iterator[dict[str, object]]:
    """One flat dict per cluster member, clusters in order, the cleanest first (JSONL and CSV)."""
    for cluster in result.clusters:
        for member in cluster.members:
            yield {"cluster": cluster.cluster_id, **_member(member)}


def _write_json(result: ScanResult, version: str, out: IO[str]) -> None:
    """The export, indented, with each cluster and each skipped entry on a line of its own:
    readable, grep-able, and written a line at a time (an indented dump of a million
    members goes through json's pure-Python encoder, minutes instead of seconds)."""
    lines: dict[str, list[str]] = {
        "clusters": [_cluster_json(c) for c in result.clusters],
        "skipped": [_LINE_ENCODER.encode(k) for k in _skipped(result)],
        "documents": list(json_rows(result)),
    }
    data: dict[str, object] = {**_head(result, version), **lines}
    out.write("{\n")
    for n, (key, value) in enumerate(data.items()):
        out.write(f"  {json.dumps(key)}: ")
        if key in lines and value:
            last = len(lines[key]) - 1
            out.write("[\n")
            for i, line in enumerate(lines[key]):
                out.write(f"    {_one_line(line)}{',' if i < last else ''}\n")
            out.write("  ]")
        else:
            out.write(json.dumps(value, ensure_ascii=False, indent=2, allow_nan=False).replace("\n", "\n  "))
        out.write(",\n" if n < len(data) - 1 else "\n")
    out.write("}\n")


def _write_jsonl(result: ScanResult, out: IO[str]) -> None:
    for cluster in result.clusters:
        head = f'{{"cluster": {int.__repr__(cluster.cluster_id)}, '
        for member in cluster.members:
            out.write(_one_line(head + _member_json(member)[1:]))  # the member_rows dict, as JSON
            out.write("\n")


def _write_csv(result: ScanResult, out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for cluster in result.clusters:
        for m in cluster.members:
            writer.writerow(
                [
                    cluster.cluster_id,
                    escape_name(m.doc_id),
                    escape_name(m.rel),
                    "" if m.record is None else m.record,
                    "true" if m.cleanest else "false",
                    round(m.jaccard, _DIGITS),
                    round(m.containment, _DIGITS),
                    m.words,
                    m.size,
                    round(m.penalty, _DIGITS),
                    "; ".join(escape_name(r) for r in m.reasons),
                    "" if m.record_id is None else escape_name(m.record_id),
                    round(m.in_cleanest, _DIGITS),
                    m.rule,
                    m.own_words,
                    m.boilerplate_words,
                    m.decision,
                ]
            )


def format_for(path: Path | str, fmt: str | None = None) -> str:
    """The export format: ``fmt`` if given, else the one the file suffix names.

    Raises:
        ConfigError: an unknown ``fmt``, or no ``fmt`` and a suffix that names no format.
    """
    if fmt is not None:
        if fmt not in FORMATS:
            raise ConfigError(f"unknown export format {fmt!r}: use json, jsonl, csv or parquet")
        return fmt
    found = _SUFFIXES.get(Path(str(path)).suffix.lower()) if str(path) != "-" else None
    if found is None:
        raise ConfigError(f"cannot tell the export format from '{path}': use --format json|jsonl|csv|parquet")
    return found


def write_export(result: ScanResult, path: Path | str, fmt: str | None = None, *, version: str) -> None:
    """Write a scan as JSON, JSON Lines, CSV or Parquet, atomically.

    Args:
        result: the scan.
        path: the file to write; ``-`` for stdout.
        fmt: ``json``, ``jsonl``, ``csv`` or ``parquet``; None to tell it from the suffix of
            ``path`` (``.json``, ``.jsonl``/``.ndjson``, ``.csv``, ``.parquet``).
        version: the dedup version, recorded in the JSON export.

    Raises:
        ConfigError: the format is unknown or cannot be told from the suffix, or Parquet
            without pyarrow (the message names the install command).
        ExportError: the file could not be written; the target is left as it was.

    Example:
        >>> write_export(result, "scan.json", version="0.1.0")  # doctest: +SKIP
    """
    kind = format_for(path, fmt)
    if kind == "json":
        write_atomic(path, lambda out: _write_json(result, version, out))
    elif kind == "jsonl":
        write_atomic(path, lambda out: _write_jsonl(result, out))
    elif kind == "csv":
        write_atomic(path, lambda out: _write_csv(result, out))
    else:
        write_parquet(path, parquet_export(result))


def parquet_export(result: ScanResult) -> Any:
    """The Parquet export as a pyarrow Table (the CSV's rows and columns, typed)."""
    rows = [{**row, "reasons": "; ".join(map(str, row["reasons"]))} for row in member_rows(result)]  # type: ignore[call-overload]
    return parquet_table(rows, CSV_COLUMNS, _PARQUET_INTS, _PARQUET_FLOATS, frozenset({"cleanest"}))


def read_export(path: Path | str, *, needs: str = "") -> dict[str, Any]:
    """Read a JSON export back, checking it is one.

    Args:
        needs: what the caller needs, added to the error for a file that is not the export
            (a decision table, a list), in place of the JSON parser's words.

    Raises:
        InputError: the file cannot be read, is not JSON, or is not a ``dedup.scan`` export.
    """
    hint = f": {needs}" if needs else ""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {reason_of(exc)}") from exc
    except ValueError as exc:
        raise InputError(f"cannot read {path}: {f'not JSON{hint}' if needs else reason_of(exc)}") from exc
    if not isinstance(data, dict):
        raise InputError(f'{path} is not a dedup scan export (no "schema": "{SCHEMA}"){hint}')
    schema = str(data.get("schema", ""))
    if schema.startswith("dedup.decisions/"):
        raise InputError(f"{path} is a --decisions file, not a dedup scan export{hint}")
    if not schema.startswith("dedup.scan/"):
        raise InputError(f'{path} is not a dedup scan export (no "schema": "{SCHEMA}"){hint}')
    if schema != SCHEMA:
        raise InputError(f"{path} uses schema {schema}; this dedup reads {SCHEMA}")
    return data
