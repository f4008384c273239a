"""``dedup apply --write FILE``: the deduplicated dataset of record inputs.

Every record of the scanned JSON Lines and JSON files but the dropped ones, in their files'
scan order and each file's own order, in their original form: a JSON Lines record is its
line's bytes as they were (blank and unreadable lines too: only dropped records are cut), a
JSON array item the bytes of the item, a Parquet row its row. Written as JSON Lines
(``.jsonl``) or as one JSON array (``.json``), where an item spread over several lines is
written on one and a Parquet row as JSON; or as Parquet (``.parquet``): Parquet inputs'
rows with their schema, JSON records (objects) as a column per key. Compressed inputs are
left out (with that reason).
With ``annotate`` each record that is an object gets a ``_dedup`` field: its cluster,
decision, the rule that decided and the id of the kept copy (the record is then
written again by json, keys in their order).

A file is checked first: it is read again and each record's text digest compared with
the scan's; a file that changed since is left out whole, with its reason.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from . import extract
from .atomic import write_atomic
from .config import ScanConfig
from .errors import ConfigError
from .extras import require_pyarrow
from .files import open_regular
from .lists import escape_name
from .records import Document, SourceFile, text_digest

__all__ = ["RecordRow", "WriteOutcome", "record_documents", "write_records"]

_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet"}
_COMPRESSED = (".gz", ".zst", ".zstd", ".bz2", ".xz")


@dataclass(frozen=True, slots=True)
class RecordRow:
    """A record document of the decision table, as the dataset writer needs it."""

    record: int
    decision: str
    cluster: int | None
    rule: str
    kept: str | None
    digest: str
    absolute: str
    rel: str


@dataclass
class WriteOutcome:
    """What went into the dataset: records written and dropped, files left out and why."""

    written: int = 0
    dropped: int = 0
    files: int = 0
    left: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)


def record_documents(path: str, rel: str, config: ScanConfig, data: bytes | None = None) -> dict[int, Document]:
    """The file's record documents, extracted again, by record number: from ``data``, the
    bytes of a plain JSON Lines or JSON file already read, when given (--write checks and
    writes the same bytes), else from the file."""
    source = SourceFile(path, rel, os.path.getsize(path) if data is None else len(data))
    found = {}
    items = extract.extract(source, config) if data is None else extract.extract_bytes(source, data, config)
    for item in items:
        if isinstance(item, Document) and item.record is not None:
            found[item.record] = item
    return found


def _changed(rows: Sequence[RecordRow], docs: dict[int, Document]) -> str | None:
    for row in rows:
        doc = docs.get(row.record)
        if doc is None:
            return f"record {row.record} is gone since the scan"
        if f"{text_digest(doc.text):016x}" != row.digest:
            return f"record {row.record} changed since the scan"
    new = sorted(set(docs) - {row.record for row in rows})
    if new:  # added since: never compared with the rest, so it cannot be written as kept
        return f"record {new[0]} is new since the scan"
    return None


def _annotated(raw: bytes, row: RecordRow | None) -> bytes:
    """A record with its ``_dedup`` field (objects only; others as they were)."""
    value = json.loads(raw)
    if not isinstance(value, dict) or row is None:
        return raw
    value["_dedup"] = {"cluster": row.cluster, "decision": row.decision, "rule": row.rule, "kept": row.kept}
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _jsonl_items(data: bytes, starts: dict[int, RecordRow], drop: set[int]) -> Iterator[tuple[bytes, RecordRow | None]]:
    """A JSON Lines file's lines but the dropped records' (each without its line end), with
    the record row of each line that is a record of the scan."""
    at = 0
    while at < len(data):
        end = data.find(b"\n", at)
        end = len(data) if end < 0 else end
        line = data[at:end].rstrip(b"\r")
        found = starts.get(at)
        if found is None:
            if line.strip() or end < len(data):
                yield line, None  # not a record of the scan (blank, unreadable): kept as it was
        elif found.record not in drop:
            yield line, found
        at = end + 1


def _json_items(data: bytes, docs: dict[int, Document], drop: set[int]) -> Iterator[bytes]:
    """A JSON array file's items but the dropped ones: the item's own bytes where the scan
    located them, else written by json."""
    value = json.loads(data)
    items = value if isinstance(value, list) else [value]
    for number, item in enumerate(items, start=1):
        if number in drop:
            continue
        doc = docs.get(number)
        if doc is not None and doc.locator.length >= 0:
            yield data[doc.locator.offset : doc.locator.offset + doc.locator.length]
        else:
            yield json.dumps(item, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _parquet_rows(path: str, drop: set[int]) -> Any:
    """A Parquet file's rows but the dropped ones (record n is row n - 1), its schema kept."""
    pa, pq = require_pyarrow("writing Parquet rows")
    table = pq.read_table(path)
    keep = [n + 1 not in drop for n in range(table.num_rows)]
    return table.filter(pa.array(keep, type=pa.bool_()))


def _dedup_field(row: RecordRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"cluster": row.cluster, "decision": row.decision, "rule": row.rule, "kept": row.kept}


def _file_items(
    path: str, data: bytes, docs: dict[int, Document], file_rows: Sequence[RecordRow], drop: set[int], annotate: bool
) -> list[bytes]:
    """A JSON Lines or JSON file's kept records, each as bytes (see the module docstring)."""
    row_of = {r.record: r for r in file_rows}
    spans = all(d.locator.length >= 0 for d in docs.values())
    if path.endswith((".jsonl", ".ndjson")) or (spans and not data.lstrip().startswith(b"[")):
        starts = {d.locator.offset: row_of[n] for n, d in docs.items() if n in row_of}
        return [_annotated(line, row) if annotate and row else line for line, row in _jsonl_items(data, starts, drop)]
    items = list(_json_items(data, docs, drop))
    if annotate:
        kept_numbers = [n for n in range(1, len(items) + len(drop) + 1) if n not in drop]
        items = [_annotated(raw, row_of.get(n)) for raw, n in zip(items, kept_numbers, strict=True)]
    return items


def write_records(
    rows: Sequence[RecordRow],
    config: ScanConfig,
    out: Path | str,
    *,
    annotate: bool = False,
    supersets: bool = False,
) -> WriteOutcome:
    """Write the records that are not dropped, file by file, to ``out``.

    Args:
        rows: every record document of the scan, in table order.
        config: the scan's settings (extracting again needs its fields).
        out: a ``.jsonl``, ``.json`` or ``.parquet`` file; written atomically.
        annotate: add the ``_dedup`` field to each record.
        supersets: drop supersets too.

    Raises:
        ConfigError: ``out`` names no format, or Parquet files whose columns cannot be joined.
        MissingExtra: Parquet without pyarrow.
        ExportError: ``out`` could not be written.
    """
    fmt = _FORMATS.get(Path(str(out)).suffix.lower())
    if fmt is None:
        raise ConfigError(f"cannot tell the dataset format from '{out}': name it .jsonl, .json or .parquet")
    drops = {"dropped", "superset"} if supersets else {"dropped"}
    by_file: dict[str, list[RecordRow]] = {}
    for row in rows:
        by_file.setdefault(row.absolute, []).append(row)
    outcome = WriteOutcome()
    parts: list[bytes] = []
    tables: list[Any] = []
    for path, file_rows in by_file.items():
        if path.lower().endswith(_COMPRESSED):
            outcome.left.append((escape_name(path), "compressed: --write reads plain JSON Lines, JSON and Parquet"))
            continue
        parquet = path.lower().endswith(".parquet")
        try:
            data = b""
            if not parquet:  # read once: the records checked are those written
                with open_regular(path) as (f, _st):
                    data = f.read()
            docs = record_documents(path, file_rows[0].rel, config, None if parquet else data)
            why = _changed(file_rows, docs)
        except (OSError, ValueError) as exc:
            why = f"cannot be read again: {exc}"
        if why is not None:
            outcome.left.append((escape_name(path), why))
            continue
        drop = {r.record for r in file_rows if r.decision in drops}
        if parquet:
            table = _parquet_rows(path, drop)
            if fmt == "parquet" and not annotate:
                tables.append(table)
                items: list[bytes] = []
            else:
                row_of = {r.record: r for r in file_rows}
                kept = [n + 1 for n in range(table.num_rows + len(drop)) if n + 1 not in drop]
                values = table.to_pylist()
                if annotate:
                    values = [{**v, "_dedup": _dedup_field(row_of.get(n))} for v, n in zip(values, kept, strict=True)]
                items = [
                    json.dumps(v, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass") for v in values
                ]
        else:
            items = _file_items(path, data, docs, file_rows, drop, annotate)
        if fmt == "parquet" and items:
            tables.append(_table_of(items))
        elif fmt == "jsonl":
            parts.extend(b" ".join(i.split(b"\n")) if b"\n" in i else i for i in items)
        else:
            parts.extend(items)
        outcome.files += 1
        outcome.written += sum(1 for r in file_rows if r.record not in drop)
        outcome.dropped += len(drop)

    if fmt == "parquet":
        _write_parquet(out, tables)
        return outcome

    def write(f: IO[Any]) -> None:
        if fmt == "jsonl":
            for item in parts:
                f.write(item + b"\n")
        else:
            f.write(b"[\n" + b",\n".join(parts) + (b"\n]\n" if parts else b"]\n"))

    write_atomic(out, write, binary=True)
    return outcome


def _table_of(items: list[bytes]) -> Any:
    """JSON records as a pyarrow Table (objects only: a column per key)."""
    pa, _ = require_pyarrow("writing Parquet rows")
    values = []
    for raw in items:
        try:
            value = json.loads(raw)
        except ValueError:
            continue  # a line that was never a record has no columns
        if isinstance(value, dict):
            values.append(value)
    return pa.Table.from_pylist(values)


def _write_parquet(out: Path | str, tables: list[Any]) -> None:
    pa, pq = require_pyarrow("writing Parquet rows")
    try:
        table = pa.concat_tables(tables, promote_options="default") if tables else pa.table({})
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ConfigError(f"the record files' columns cannot be joined into one Parquet table: {exc}") from exc
    write_atomic(out, lambda f: pq.write_table(table, f), binary=True)
