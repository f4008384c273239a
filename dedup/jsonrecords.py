"""JSON Lines and JSON files -> records -> documents, in bounded memory.

Records (JSON Lines lines, JSON array items, a lone JSON object) all have kind "jsonl".
``Document.record`` is the 1-based line or item number, ``size`` the line's bytes (an
array item: its compact UTF-8 JSON), ``record_id`` the ``id_field`` value (numbers as
written) or None, and ``doc_id`` that id qualified by the file, "rel:id", or "rel:number"
without one (a lone object is a whole file: its ``doc_id`` is "rel"). A record id never
names a file, and records that share an id are all documents; the pipeline, which sees
every file, makes the rare qualified id that is taken unique.

Locators: a JSON Lines record is the bytes ``[offset, offset + length)`` of its line
(newline included), an item of a JSON array in UTF-8 the bytes of the item; an array item
in another encoding is ``(index, JSON_ARRAY_ITEM)`` (the whole file is parsed again).
"""

from __future__ import annotations

import codecs
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import BinaryIO

from .config import ScanConfig
from .decode import SNIFF_BYTES, binary_kind, decode_bytes, dedup_output, normalize_newlines, unicode_codec
from .errors import SkipReason
from .files import open_regular
from .records import Document, Locator, Skipped, SourceFile, document_id

#: Opens a file as its bytes, with its stat: ``files.open_regular``, or a decompressing opener.
Opener = Callable[[str], AbstractContextManager[tuple[BinaryIO, os.stat_result]]]

__all__ = [
    "JSON_ARRAY_ITEM",
    "BadRecord",
    "bounded_lines",
    "field_text",
    "json_documents",
    "jsonl_documents",
    "jsonl_lines",
    "lookup_field",
    "one_line",
    "parse_json_file",
    "parse_line",
    "record_documents",
    "record_id_of",
    "record_text",
]

#: ``Locator.length`` of a JSON array item; its ``offset`` is then the item's 0-based index.
JSON_ARRAY_ITEM = -2
#: Longest detail kept in a Skipped record (a one-line message, not a dump).
_DETAIL_CHARS = 200
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


class BadRecord(ValueError):
    """A record (or a whole JSON file) that cannot become a document; the message says why."""

    def __init__(self, detail: str, reason: SkipReason = SkipReason.BAD_RECORD) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reason = reason


def jsonl_documents(
    source: SourceFile, config: ScanConfig, opener: Opener = open_regular
) -> Iterator[Document | Skipped]:
    """One document per line, read a line at a time: a 2 GB file never sits in memory.
    ``opener`` opens the file as its bytes (``compressed.open_decompressed`` for a
    compressed one: the offsets are then those of the decompressed stream)."""
    with opener(source.path) as (f, _st):
        head = f.read(SNIFF_BYTES)
        why = binary_kind(head)
        if why is not None:
            yield Skipped(source.rel, SkipReason.BINARY, why)
            return
        codec = unicode_codec(head)
        if codec is not None and codec != "utf-8-sig":
            detail = f"JSON Lines must be UTF-8, this file is {codec.upper()}: convert it (iconv -t UTF-8)"
            yield Skipped(source.rel, SkipReason.BAD_RECORD, detail)
            return
        why = dedup_output(head)
        if why is not None:
            yield Skipped(source.rel, SkipReason.DEDUP_OUTPUT, why)
            return
        f.seek(0)
        lines = bounded_lines(f, config.max_bytes)
        items = jsonl_lines(source.path, lines, config.max_bytes)
        yield from record_documents(source, config, items, "line", empty="no records")


#: Bytes read at a time past the --max-bytes of an oversized JSON Lines line: what the line
#: costs in memory beyond the limit itself.
_SKIP_BLOCK = 1 << 16


def bounded_lines(f: BinaryIO, max_bytes: int, limit: int = sys.maxsize) -> Iterator[bytes | int]:
    """The lines of ``f`` (newline kept) in its next ``limit`` bytes. A line longer than
    ``max_bytes`` comes as its length alone, read past in blocks: a 2 GB line is skipped
    at the cost of ``max_bytes``, not read whole."""
    left = limit
    while left > 0:
        raw = f.readline(min(max_bytes + 1, left))
        if not raw:
            return
        left -= len(raw)
        if len(raw) <= max_bytes:
            yield raw
            continue
        size = len(raw)
        while left > 0 and not raw.endswith(b"\n"):
            raw = f.readline(min(_SKIP_BLOCK, left))
            if not raw:
                break
            size += len(raw)
            left -= len(raw)
        yield size


def jsonl_lines(
    path: str, lines: Iterable[bytes | int], max_bytes: int, offset: int = 0, first_line: int = 1
) -> Iterator[tuple[int, object, str, int, Locator]]:
    """(line number, parsed value or BadRecord, encoding, size, locator) of non-blank lines;
    ``lines`` gives an oversized line as its length (see ``bounded_lines``)."""
    for lineno, raw in enumerate(lines, start=first_line):
        if isinstance(raw, int):
            offset += raw
            too_large = BadRecord(f"{raw:,} bytes > {max_bytes:,} byte limit (--max-bytes)", SkipReason.TOO_LARGE)
            yield lineno, too_large, "", raw, Locator(path)
            continue
        start, offset = offset, offset + len(raw)
        if not raw.strip():
            continue
        try:
            value, encoding = parse_line(raw, first=start == 0)
        except BadRecord as bad:
            yield lineno, bad, "", len(raw), Locator(path)
            continue
        yield lineno, value, encoding, len(raw), Locator(path, start, len(raw))


def parse_line(raw: bytes, *, first: bool) -> tuple[object, str]:
    """One JSON Lines line -> its value and encoding (UTF-8, else cp1252 as scraped files
    mislabelled as UTF-8 usually are; guessing per line would cost a detector call each)."""
    if first and raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        line, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        line, encoding = raw.decode("cp1252", errors="replace"), "cp1252"
    try:
        return json.loads(line.rstrip("\r\n")), encoding
    except json.JSONDecodeError as exc:
        raise BadRecord(f"not valid JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:
        raise BadRecord(f"not valid JSON ({_json_limit(exc)})") from None


def json_documents(source: SourceFile, data: bytes, config: ScanConfig) -> Iterator[Document | Skipped]:
    """A .json file: an array of record objects, or a single object with the text field."""
    try:
        value, encoding, spans = _parse_json_records(data)
    except BadRecord as bad:
        yield Skipped(source.rel, bad.reason, bad.detail)
        return
    field = config.text_field
    expected = f"expected an array of objects or an object with a {field!r} field"
    if isinstance(value, dict):
        if not lookup_field(value, field)[0]:
            detail = f"not records: an object with {_fields(value)}; {expected}"
            yield Skipped(source.rel, SkipReason.BAD_RECORD, detail)
            return
        try:
            text = record_text(value, config)
        except BadRecord as bad:
            yield Skipped(source.rel, bad.reason, bad.detail)
            return
        # A whole file: its id is its path (the record's own id is kept beside it).
        record_id = record_id_of(value, config)
        yield Document(
            source.rel, source.rel, text, encoding, "jsonl", len(data), Locator(source.path), None, record_id
        )
        return
    if not isinstance(value, list):
        yield Skipped(source.rel, SkipReason.BAD_RECORD, f"not records: the JSON is {_json_type(value)}; {expected}")
        return
    if not value:
        yield Skipped(source.rel, SkipReason.EMPTY, "no records (an empty array)")
        return
    if not any(isinstance(item, dict) for item in value):
        detail = f"not records: an array of {_json_type(value[0])} and no objects; {expected}"
        yield Skipped(source.rel, SkipReason.BAD_RECORD, detail)
        return
    items = (
        (
            i,
            item,
            encoding,
            _json_size(item),
            Locator(source.path, i - 1, JSON_ARRAY_ITEM) if spans is None else Locator(source.path, *spans[i - 1]),
        )
        for i, item in enumerate(value, start=1)
    )
    yield from record_documents(source, config, items, "record", empty="no records")


def _parse_json_records(data: bytes) -> tuple[object, str, list[tuple[int, int]] | None]:
    """``parse_json_file``, and for an array in valid UTF-8 the (byte offset, byte length)
    of each item: ``load_text`` then re-reads an item alone, as a JSON Lines line, instead
    of parsing the whole file for each member it ranks."""
    bom = data.startswith(codecs.BOM_UTF8)
    if unicode_codec(data[:SNIFF_BYTES]) in (None, "utf-8-sig"):
        try:
            text = data[len(codecs.BOM_UTF8) if bom else 0 :].decode("utf-8")  # what decode_bytes gives
        except UnicodeDecodeError:
            text = None
        found = None if text is None else _array_items(text)
        if text is not None and found is not None:
            values, spans = found
            return values, "utf-8-sig" if bom else "utf-8", _byte_spans(text, spans, len(codecs.BOM_UTF8) if bom else 0)
    value, encoding = parse_json_file(data)  # not an array, not UTF-8, or not valid: the one parse says why
    return value, encoding, None


_JSON_SPACE = re.compile(r"[ \t\n\r]*")  # what json.loads skips around values
_JSON_DECODER = json.JSONDecoder()


def _array_items(text: str) -> tuple[list[object], list[tuple[int, int]]] | None:
    """The items of a JSON array, as ``json.loads(text)`` gives them, with the [start, end)
    of each in ``text``; None if the text is not exactly one valid JSON array."""
    pos = _space_end(text, 0)
    if not text.startswith("[", pos):
        return None
    pos = _space_end(text, pos + 1)
    values: list[object] = []
    spans: list[tuple[int, int]] = []
    if text.startswith("]", pos):
        return (values, spans) if _space_end(text, pos + 1) == len(text) else None
    try:
        while True:
            value, end = _JSON_DECODER.raw_decode(text, pos)
            values.append(value)
            spans.append((pos, end))
            pos = _space_end(text, end)
            if text.startswith(",", pos):
                pos = _space_end(text, pos + 1)
            elif text.startswith("]", pos) and _space_end(text, pos + 1) == len(text):
                return values, spans
            else:
                return None
    except (ValueError, RecursionError):
        return None


def _space_end(text: str, pos: int) -> int:
    found = _JSON_SPACE.match(text, pos)
    return pos if found is None else found.end()


def _byte_spans(text: str, spans: list[tuple[int, int]], base: int) -> list[tuple[int, int]]:
    """Character spans of ``text`` as (byte offset, byte length) in its UTF-8 file."""
    if text.isascii():
        return [(base + a, b - a) for a, b in spans]
    out = []
    char, byte = 0, base
    for a, b in spans:
        byte += len(text[char:a].encode("utf-8"))
        length = len(text[a:b].encode("utf-8"))
        out.append((byte, length))
        byte, char = byte + length, b
    return out


def parse_json_file(data: bytes) -> tuple[object, str]:
    """A whole .json file -> its value and encoding."""
    text, encoding = decode_bytes(data)
    if not text or text.isspace():
        raise BadRecord("no text", SkipReason.EMPTY)
    try:
        return json.loads(text), encoding
    except json.JSONDecodeError as exc:
        where = f"at line {exc.lineno} column {exc.colno}"
        raise BadRecord(f"not valid JSON ({exc.msg.removesuffix(' at')} {where})") from None
    except (ValueError, RecursionError) as exc:
        raise BadRecord(f"not valid JSON ({_json_limit(exc)})") from None


def _json_limit(exc: ValueError | RecursionError) -> str:
    """The parser's limits, said short: nesting depth, or digits in a number (Python 3.11+)."""
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return one_line(str(exc).split(":")[0])


def record_documents(
    source: SourceFile,
    config: ScanConfig,
    items: Iterable[tuple[int, object, str, int, Locator]],
    unit: str,
    *,
    empty: str,
) -> Iterator[Document | Skipped]:
    """Records -> documents, with the file's rel and number for every skipped one.

    A record's id is qualified by its file (``records.document_id``); records that share an
    id are documents like any others (the pipeline keeps document ids unique).
    """
    any_record = False
    for number, value, encoding, size, locator in items:
        any_record = True
        where = f"{source.rel}:{number}"
        try:
            text = record_text(value, config)
        except BadRecord as bad:
            yield Skipped(where, bad.reason, f"{unit} {number}: {bad.detail}")
            continue
        record_id = record_id_of(value, config)
        doc_id = document_id(source.rel, number, record_id)
        yield Document(doc_id, source.rel, text, encoding, "jsonl", size, locator, number, record_id)
    if not any_record and empty:
        yield Skipped(source.rel, SkipReason.EMPTY, empty)


def record_text(value: object, config: ScanConfig) -> str:
    """The text of one record object, or BadRecord naming what is wrong."""
    field = config.text_field
    if isinstance(value, BadRecord):
        raise value  # a line that did not parse
    if not isinstance(value, dict):
        raise BadRecord(f"not a JSON object ({_json_type(value)})")
    found, text = lookup_field(value, field)
    if not found:
        raise BadRecord(f"no {field!r} field ({_fields_near(value, field)})")
    return field_text(text, field)


def field_text(text: object, field: str) -> str:
    """A text field's value as a document's text, or BadRecord: it must be a string with
    something besides white space in it."""
    if not isinstance(text, str):
        raise BadRecord(f"{field!r} is {_json_type(text)}, not a string")
    text = normalize_newlines(_clean_surrogates(text))
    if not text or text.isspace():
        raise BadRecord("no text", SkipReason.EMPTY)
    return text


def lookup_field(record: dict[object, object], field: str) -> tuple[bool, object]:
    """(found, value) of ``field`` in a record: a key of that name, else a dotted path into
    nested objects (``meta.url`` is ``record["meta"]["url"]``)."""
    if field in record:
        return True, record[field]
    if "." not in field:
        return False, None
    value: object = record
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _fields_near(record: dict[object, object], field: str) -> str:
    """The fields a user could have meant: the record's, or for a dotted path those of the
    deepest object on the path ("fields of 'meta': url, lang")."""
    value: object = record
    parts = field.split(".")
    for depth, part in enumerate(parts[:-1]):
        if not isinstance(value, dict) or part not in value:
            break
        value = value[part]
        if not isinstance(value, dict):
            return f"{'.'.join(parts[: depth + 1])!r} is {_json_type(value)}"
    else:
        depth = len(parts) - 1
    if value is record or not isinstance(value, dict):
        return _fields(record)
    return f"{'.'.join(parts[:depth])!r} has {_fields(value)}"


def record_id_of(value: object, config: ScanConfig) -> str | None:
    """The record's own id as a string (numbers as written in JSON), if it has one."""
    if not isinstance(value, dict):
        return None
    raw = lookup_field(value, config.id_field)[1]
    if raw is None or raw == "":
        return None
    text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, sort_keys=True, default=str)
    return _clean_surrogates(text)


def _json_size(value: object) -> int:
    """A JSON array item's size: its bytes as compact UTF-8 JSON (the parser keeps no spans)."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))


def _fields(record: dict[object, object]) -> str:
    """'fields: id, body, url' so the user can pick --text-field; the first ten only."""
    if not record:
        return "no fields"
    names = [_short(str(k), 40) if str(k).isprintable() else repr(k) for k in record]
    shown = ", ".join(names[:10])
    return f"fields: {shown}" if len(names) <= 10 else f"fields: {shown}, … ({len(names)} in all)"


def _json_type(value: object) -> str:
    """A value's JSON type, with an article, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _clean_surrogates(text: str) -> str:
    """JSON may escape lone surrogates ("\\ud800"); they cannot be written as UTF-8 later."""
    if text.isascii() or _LONE_SURROGATE.search(text) is None:  # isascii: 700x cheaper than the search
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def one_line(text: str) -> str:
    """A message on one line and of bounded length, whatever an exception put in it."""
    return _short(" ".join(text.split()), _DETAIL_CHARS)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
